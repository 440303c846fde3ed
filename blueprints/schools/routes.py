from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.pagination import after_id, keyset_page, render_list
from blueprints.schools import membership_actions
from blueprints.schools.access import (
    access_membership,
    access_school,
    access_school_admin,
    is_class_teacher_in,
    roles_in,
)
from blueprints.schools.membership_actions import MembershipError
from blueprints.schools.requests_actions import pending_requests_count
from db.models import Membership, User

PARTICIPANTS_PAGE_SIZE = 30


def open_reports_count(school):
    from blueprints.chats.actions import open_reports_count as count

    return count(school)

bp = Blueprint("schools", __name__)


def _side_menu_context(school):
    roles = roles_in(current_user, school)
    return {
        "school": school,
        "roles": roles,
        "is_school_admin": Membership.ADMIN in roles,
        "is_class_teacher": is_class_teacher_in(current_user, school),
        "pending_requests": pending_requests_count(current_user, school),
        "open_reports": open_reports_count(school) if Membership.ADMIN in roles else 0,
    }


@bp.route("/schools/<int:school_id>")
@login_required
def school(school_id):
    school = access_school(current_user, school_id)
    return render_template(
        "schools/school.html",
        classes=list(school.classes_in_order()),
        teachers=list(school.people(Membership.TEACHER)),
        students=list(school.people(Membership.STUDENT)),
        participants=school.participant_count(),
        **_side_menu_context(school),
    )


@bp.route("/schools/<int:school_id>/participants")
@login_required
def participants(school_id):
    from blueprints.chats.access import personal_partners_in

    school = access_school(current_user, school_id)
    # By name, one person's memberships side by side (the user's id before the role).
    memberships = keyset_page(
        school.memberships_in_order(),
        (User.last_name, User.first_name, User.id, Membership.role, Membership.id),
        Membership.id,
        after_id(),
        PARTICIPANTS_PAGE_SIZE,
    )
    # Whom one may write to depends on all of a person's roles here, some maybe on another page.
    theirs = Membership.select().where(
        (Membership.school == school) & Membership.user.in_({m.user_id for m in memberships})
    )
    return render_list(
        "schools/participants.html",
        "schools/_participants.html",
        "participants",
        memberships=memberships,
        partners=personal_partners_in(current_user, school, list(theirs)),
        role_choices=membership_actions.ROLE_CHOICES,
        **_side_menu_context(school),
    )


@bp.route("/schools/<int:school_id>/participants/<int:membership_id>/role", methods=["POST"])
@login_required
def change_role(school_id, membership_id):
    """An administrator corrects a role chosen wrongly (seed [000])."""
    school = access_school_admin(current_user, school_id)
    membership = access_membership(school, membership_id)
    try:
        membership_actions.do_change_role(membership, request.form.get("role", ""))
    except MembershipError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(_("The role has been changed."))
    return redirect(url_for("schools.participants", school_id=school.id), code=303)


@bp.route("/schools/<int:school_id>/leaders", methods=["GET", "POST"])
@login_required
def leaders(school_id):
    """«Руководители»: the school's leaders with their posts; administrators set the posts."""
    if request.method == "POST":
        school = access_school_admin(current_user, school_id)
        membership = access_membership(
            school,
            request.form.get("membership", type=int),
            roles=(Membership.ADMIN, Membership.TEACHER),
        )
        try:
            membership_actions.do_set_position(membership, request.form.get("position", ""))
        except MembershipError as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(_("Saved."))
        return redirect(url_for("schools.leaders", school_id=school.id), code=303)
    school = access_school(current_user, school_id)
    return render_template(
        "schools/leaders.html",
        leaders=list(school.leaders()),
        staff=list(school.staff()),
        **_side_menu_context(school),
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
