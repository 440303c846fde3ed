"""Join requests (SPEC §3): deciding them, and applying to a school found by country → city → name."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.pagination import after_id, render_list
from blueprints.schools import requests_actions as actions
from blueprints.schools.access import access_invitations, access_join_request
from blueprints.schools.requests_actions import JoinError
from blueprints.schools.routes import bp
from db.models import Membership, School


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(actions.ACCEPT, _l("Accept")), SelectChoice(actions.REJECT, _l("Reject"))],
        validators=[DataRequired(_l("Choose to accept or to reject the request."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=1000, message=_l("The reason is too long: at most 1000 characters."))],
    )


@bp.route("/schools/<int:school_id>/requests")
@login_required
def requests(school_id):
    school = access_invitations(current_user, school_id)
    return _requests_page(school)


def _requests_page(school, failed=None, error=None, status=200):
    pending, decided = actions.requests_for(current_user, school, after_id())
    return render_list(
        "schools/requests_list.html",
        "schools/_requests_decided.html",
        "decided",
        status=status,
        school=school,
        pending=pending,
        decided=decided,
        failed=failed,
        error=error,
        role_label=actions.role_label,
    )


@bp.route("/schools/<int:school_id>/requests/<int:request_id>", methods=["POST"])
@login_required
def decide_request(school_id, request_id):
    school, join_request = access_join_request(current_user, school_id, request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        message = form.decision.errors[0] if form.decision.errors else (form.reason.errors or [None])[0]
        return _requests_page(school, join_request.id, message, 400)
    try:
        actions.do_decide_request(current_user, join_request, form.decision.data, form.reason.data)
    except JoinError as refusal:
        status = 409 if refusal.kind == "decided" else 400
        return _requests_page(school, join_request.id, refusal.message, status)
    if form.decision.data == actions.ACCEPT:
        flash(_("The request of %(name)s has been accepted.", name=join_request.user.full_name))
    else:
        flash(_("The request of %(name)s has been rejected.", name=join_request.user.full_name))
    return redirect(url_for("schools.requests", school_id=school.id), code=303)


# Applying without a link -------------------------------------------------------------


@bp.route("/schools/find")
@login_required
def find():
    """«Добавить учебное заведение»: country → city → name."""
    countries = actions.countries()
    country = request.args.get("country", "").strip()
    city = request.args.get("city", "").strip()
    text = request.args.get("q", "").strip()[:100]
    if len(countries) == 1 and not country:
        country = countries[0]
    cities = actions.cities(country) if country in countries else []
    if city not in cities:
        city = ""
    schools = actions.find_schools(country, city, text) if city else []
    return render_template(
        "schools/find_school.html",
        countries=countries,
        country=country,
        cities=cities,
        city=city,
        text=text,
        schools=schools,
    )


class ApplyForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("", _l("Choose…")),
            SelectChoice(Membership.TEACHER, _l("Teacher")),
            SelectChoice(Membership.STUDENT, _l("Student")),
            SelectChoice(Membership.PARENT, _l("Parent")),
        ],
        validators=[DataRequired(_l("Choose your role."))],
    )
    subjects = StringField(_l("Subjects"), filters=[lambda v: v.strip() if v else v])
    classes = SelectMultipleField(
        _l("Classes"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    continue_anyway = BooleanField(_l("Continue anyway"))


@bp.route("/schools/<int:school_id>/join", methods=["GET", "POST"])
@login_required
def apply_to_join(school_id):
    """An application to a school found by search; open to any signed-in person."""
    school = School.get_or_none(School.id == school_id)
    if school is None:
        abort(404)
    classes = school.classes_in_order()
    form = ApplyForm()
    form.classes.choices = [SelectChoice(c.id, _class_name(c)) for c in classes]
    error = None
    if form.validate_on_submit():
        by_id = {c.id: c for c in classes}
        chosen = [by_id[i] for i in form.classes.data or [] if i in by_id]
        try:
            actions.do_apply_to_join(
                current_user,
                school,
                form.role.data,
                chosen,
                form.subjects.data,
                form.continue_anyway.data,
            )
        except JoinError as refusal:
            error = refusal.message
        else:
            flash(_("Your request has been sent. You will see the decision in your notifications."))
            return redirect(url_for("home.index"), code=303)
    return render_template(
        "schools/find_apply.html",
        school=school,
        form=form,
        error=error,
        parent_account=actions.is_parent_account(current_user),
    ), (400 if error or form.errors else 200)


def _class_name(school_class):
    if school_class.profile:
        return f"{school_class.name} · {school_class.profile}"
    return school_class.name



