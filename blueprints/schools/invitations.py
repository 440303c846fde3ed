"""Invitation links (SPEC §3): made by administrators and class teachers, followed by anyone.

Following a link files a request; a guest signs in or signs up first and is brought
back to the link afterwards (the token waits in the session under ``pending_invite``).
"""
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from blueprints.schools import requests_actions as actions
from blueprints.schools.access import access_invitation, access_invitations, can_invite, is_admin
from blueprints.schools.requests_actions import JoinError
from blueprints.schools.routes import bp
from db.models import Membership, SchoolClass

PENDING_INVITE = "pending_invite"


class InvitationForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Choose one."))])
    school_class = SelectField(_l("Class"), coerce=str)
    days = SelectField(
        _l("The link works for"),
        coerce=int,
        default=7,
        validate_choice=False,
        choices=[
            SelectChoice(1, _l("1 day")),
            SelectChoice(7, _l("7 days")),
            SelectChoice(30, _l("30 days")),
        ],
    )
    max_uses = IntegerField(
        _l("How many times it can be used"),
        validators=[
            Optional(),
            NumberRange(1, 1000, _l("The number of uses is from 1 to 1000, or empty for no limit.")),
        ],
    )


class JoinForm(FlaskForm):
    subjects = StringField(_l("Subjects"), filters=[lambda v: v.strip() if v else v])
    continue_anyway = BooleanField(_l("Continue anyway"))


ROLE_CHOICES = {
    Membership.TEACHER: _l("Teacher"),
    Membership.STUDENT: _l("Student"),
    Membership.ADMIN: _l("Administrator"),
}


def _invitation_form(school):
    """The form with every role and class, so that a forbidden pick reaches the 403 check."""
    form = InvitationForm()
    form.role.choices = [SelectChoice(role, label) for role, label in ROLE_CHOICES.items()]
    form.school_class.choices = [SelectChoice("", _l("Whole school (no class)"))] + [
        SelectChoice(str(c.id), c.name) for c in school.classes_in_order()
    ]
    return form


def _narrow_to_allowed(form, school):
    """Offer only what this person may invite to."""
    if is_admin(current_user, school):
        return
    form.role.choices = [SelectChoice(Membership.STUDENT, ROLE_CHOICES[Membership.STUDENT])]
    form.school_class.choices = [
        SelectChoice(str(c.id), c.name)
        for c in school.classes_in_order()
        if c.class_teacher_id == current_user.id
    ]


def _chosen_class(form, school):
    if not form.school_class.data:
        return None
    school_class = SchoolClass.get_or_none(
        (SchoolClass.id == int(form.school_class.data)) & (SchoolClass.school == school)
    )
    if school_class is None:
        abort(404)
    return school_class


@bp.route("/schools/<int:school_id>/invitations", methods=["GET", "POST"])
@login_required
def invitations(school_id):
    school = access_invitations(current_user, school_id)
    form = _invitation_form(school)
    error = None
    if form.validate_on_submit():
        school_class = _chosen_class(form, school)
        if not can_invite(current_user, school, form.role.data, school_class):
            abort(403)
        try:
            actions.do_create_invitation(
                current_user, school, form.role.data, school_class, form.days.data, form.max_uses.data
            )
        except JoinError as refusal:
            error = refusal.message
        else:
            flash(_("The link is ready. Copy it and send it to the person in a private message."))
            return redirect(url_for("schools.invitations", school_id=school.id), code=303)
    _narrow_to_allowed(form, school)
    links = actions.invitations_visible_to(current_user, school)
    states = {i.id: actions.invitation_state(i) for i in links}
    return render_template(
        "schools/invitations_list.html",
        school=school,
        form=form,
        error=error,
        live=[i for i in links if states[i.id] == "live"],
        past=[i for i in links if states[i.id] != "live"][:30],
        states=states,
        invitation_url=actions.invitation_url,
        role_label=actions.role_label,
    )


@bp.route("/schools/<int:school_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def invitation_revoke(school_id, invitation_id):
    school, invitation = access_invitation(current_user, school_id, invitation_id)
    actions.do_revoke_invitation(invitation)
    flash(_("The link has been revoked: it no longer works."))
    return redirect(url_for("schools.invitations", school_id=school.id), code=303)


# Following a link -----------------------------------------------------------------------


def _refusal(refusal, status, invitation=None):
    return (
        render_template(
            "schools/invitations_refused.html",
            message=refusal.message,
            kind=refusal.kind,
            invitation=invitation,
            role_label=actions.role_label,
        ),
        status,
    )


STATUS_FOR = {"revoked": 410, "expired": 410, "used_up": 410, "member": 409, "pending": 409}


def _page(invitation, token, form, error=None, status=200):
    parent_warning = (
        current_user.is_authenticated
        and invitation.role == Membership.STUDENT
        and actions.is_parent_account(current_user)
    )
    return (
        render_template(
            "schools/invitations_invite.html",
            invitation=invitation,
            token=token,
            form=form,
            error=error,
            parent_warning=parent_warning,
            role_label=actions.role_label,
        ),
        status,
    )


def _unknown_link():
    refusal = JoinError(
        _l("This invitation link is wrong: check that it was copied whole, or ask for a new one."),
        kind="unknown",
    )
    return _refusal(refusal, 404)


@bp.route("/invite/<token>")
def invite(token):
    invitation = actions.find_invitation(token)
    if invitation is None:
        return _unknown_link()
    try:
        actions.check_invitation_live(invitation)
    except JoinError as refusal:
        return _refusal(refusal, STATUS_FOR[refusal.kind], invitation)
    if not current_user.is_authenticated:
        session[PENDING_INVITE] = token
        return _page(invitation, token, None)
    session.pop(PENDING_INVITE, None)
    try:
        actions.check_can_request(
            current_user, invitation.school, invitation.role, invitation.school_class
        )
    except JoinError as refusal:
        return _refusal(refusal, STATUS_FOR[refusal.kind], invitation)
    return _page(invitation, token, JoinForm())


@bp.route("/invite/<token>", methods=["POST"])
@login_required
def join_via_invite(token):
    invitation = actions.find_invitation(token)
    if invitation is None:
        return _unknown_link()
    form = JoinForm()
    if not form.validate_on_submit():
        return _page(invitation, token, form, status=400)
    try:
        actions.do_join_via_invite(
            current_user, invitation, form.subjects.data, form.continue_anyway.data
        )
    except JoinError as refusal:
        if refusal.kind in STATUS_FOR:
            return _refusal(refusal, STATUS_FOR[refusal.kind], invitation)
        return _page(invitation, token, form, error=refusal.message)
    flash(_("Your request has been sent. You will see the decision in your notifications."))
    return redirect(url_for("home.index"), code=303)


@bp.before_app_request
def back_to_pending_invitation():
    """After signing up (which ends on the home page), bring the person back to their link once."""
    if (
        request.method == "GET"
        and PENDING_INVITE in session
        and current_user.is_authenticated
        and current_user.profile_complete
        and request.endpoint not in ("static", "schools.invite", "home.service_worker", "home.offline")
    ):
        token = session.pop(PENDING_INVITE)
        return redirect(url_for("schools.invite", token=token))
