from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from blueprints.schools.access import access_school
from db.models import Membership

bp = Blueprint("schools", __name__)


@bp.route("/schools/<int:school_id>")
@login_required
def school(school_id):
    school = access_school(current_user, school_id)
    return render_template(
        "schools/school.html",
        school=school,
        classes=list(school.classes_in_order()),
        teachers=list(school.people(Membership.TEACHER)),
        students=list(school.people(Membership.STUDENT)),
        participants=school.participant_count(),
    )


@bp.route("/schools")
@login_required
def mine():
    """«Моя школа»: straight to the school when there is one, a list when there are several."""
    schools = list(current_user.schools())
    if len(schools) == 1:
        return redirect(url_for("schools.school", school_id=schools[0].id))
    return render_template("schools/mine.html", schools=schools)


# The rest of the area adds its routes to the same blueprint.
from blueprints.schools import (  # noqa: E402,F401
    classes,
    invitations,
    parents,
    registration,
    requests,
    roster,
)
