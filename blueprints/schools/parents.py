"""Parents (SPEC §4, seeds [000] [001] [002]).

A student creates a link for their parents in their profile («Пригласить родителя»);
the link and its QR code stay in the «Родители» block. A parent opens it, signs up or
in by phone, checks (and may correct) the child's profile and confirms the child
(«Подтвердить регистрацию ребёнка»). A child has at most two parents.
"""
import io
from dataclasses import dataclass, field

import segno
from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from blueprints.auth.actions import do_update_profile
from blueprints.auth.forms import ProfileForm
from blueprints.notifications.actions import notify
from blueprints.schools import tokens
from blueprints.schools.access import (
    access_own_parent_invitation,
    access_parent_invitation,
    is_student,
    require_student,
)
from blueprints.schools.actions import do_add_membership
from blueprints.schools.routes import bp
from db import database
from db.models import Membership, ParentInvitation, ParentLink, User, utcnow

TOKEN_KIND = "parent"
MAX_PARENTS = ParentLink.MAX_PER_CHILD
# Where a guest who opened a parent's link goes back to once signed in. The school
# invitations keep their own key ("pending_invite"): the two never share one.
PENDING_KEY = "pending_parent_invite"
PROFILE_FIELDS = ("first_name", "last_name", "patronymic", "gender", "birth_date")


class ParentRefusal(Exception):
    """Why a link cannot make this person a parent; ``kind`` picks the page shown."""

    OWN, FULL, NO_PHONE = "own", "full", "no_phone"

    def __init__(self, kind, message):
        super().__init__(str(message))
        self.kind = kind
        self.message = message


# Queries ------------------------------------------------------------------------------


def student_places(user):
    """The schools and classes where ``user`` studies, as memberships."""
    return list(
        Membership.select()
        .where((Membership.user == user) & (Membership.role == Membership.STUDENT))
        .order_by(Membership.id)
    )


def parent_links(child):
    return list(
        ParentLink.select(ParentLink, User)
        .join(User, on=ParentLink.parent)
        .where(ParentLink.child == child)
        .order_by(ParentLink.created_at, ParentLink.id)
    )


def children_of(parent):
    """The confirmed children of ``parent``, each with where they study (any school)."""
    links = (
        ParentLink.select(ParentLink, User)
        .join(User, on=ParentLink.child)
        .where((ParentLink.parent == parent) & ParentLink.confirmed_at.is_null(False))
        .order_by(User.first_name, User.id)
    )
    return [Child(link.child, student_places(link.child)) for link in links]


def invitation_url(invitation):
    token = tokens.token_for(TOKEN_KIND, invitation.nonce)
    return url_for("schools.parent_invite", token=token, _external=True)


@dataclass
class Child:
    user: User
    places: list


@dataclass
class Family:
    """What the profile shows of a person's parents and children."""

    is_student: bool = False
    parents: list = field(default_factory=list)
    pending: list = field(default_factory=list)
    children: list = field(default_factory=list)
    invitation: ParentInvitation = None
    link: str = ""

    @property
    def full(self):
        return len(self.parents) + len(self.pending) >= MAX_PARENTS


@bp.app_template_global()
def family_of(user):
    """For the profile page (templates/auth/profile.html): its «Родители» and «Дети» blocks."""
    family = Family(is_student=is_student(user), children=children_of(user))
    if family.is_student:
        links = parent_links(user)
        family.parents = [link.parent for link in links if link.confirmed_at]
        family.pending = [link.parent for link in links if not link.confirmed_at]
        family.invitation = ParentInvitation.live_for(user)
        if family.invitation is not None:
            family.link = invitation_url(family.invitation)
    return family


def check_can_become_parent(user, invitation):
    """Raise ParentRefusal unless signed-in ``user`` may confirm the child of ``invitation``."""
    child = invitation.student
    if user.id == child.id:
        raise ParentRefusal(
            ParentRefusal.OWN,
            _l("This link is for a parent: a child cannot become their own parent."),
        )
    already = ParentLink.get_or_none(
        (ParentLink.parent == user) & (ParentLink.child == child)
    )
    if already is None and ParentLink.count_for(child) >= MAX_PARENTS:
        raise ParentRefusal(
            ParentRefusal.FULL, _l("This child already has two parents, so the link no longer works.")
        )
    if not user.phone:
        raise ParentRefusal(
            ParentRefusal.NO_PHONE,
            _l("Parents sign up with a mobile phone number, and this account has none."),
        )


# Actions ------------------------------------------------------------------------------


def check_can_invite(student):
    if ParentLink.count_for(student) >= MAX_PARENTS:
        raise ParentRefusal(
            ParentRefusal.FULL, _l("Your profile already has two parents: no more can be invited.")
        )


def do_create_invitation(student, replace=False):
    """The student's live link: kept if there is one, unless ``replace`` (the old one dies)."""
    check_can_invite(student)
    with database.atomic():
        current = ParentInvitation.live_for(student)
        if current is not None and not replace:
            return current
        ParentInvitation.update(revoked_at=utcnow()).where(
            (ParentInvitation.student == student) & ParentInvitation.revoked_at.is_null()
        ).execute()
        nonce, _token, token_hash = tokens.new_token(TOKEN_KIND)
        return ParentInvitation.create(student=student, nonce=nonce, token_hash=token_hash)


def do_confirm_child(parent, invitation, data):
    """«Подтвердить регистрацию ребёнка»: the link, the corrections, the parent's memberships.

    All in one transaction. Returns the child, or None if ``parent`` was linked already.
    """
    with database.atomic():
        child = User.get_by_id(invitation.student_id)
        # Writing the child's row first locks it (a row lock on PostgreSQL, the write
        # lock on SQLite), so two parents confirming at once are counted one after the other.
        User.update(first_name=User.first_name).where(User.id == child.id).execute()
        check_can_become_parent(parent, invitation)
        link = ParentLink.get_or_none((ParentLink.parent == parent) & (ParentLink.child == child))
        if link is not None and link.confirmed_at is not None:
            return None
        do_update_profile(child, {name: data[name] for name in PROFILE_FIELDS})
        if link is None:
            ParentLink.create(parent=parent, child=child, confirmed_at=utcnow())
        else:
            link.confirmed_at = utcnow()
            link.save()
        for place in student_places(child):
            do_add_membership(parent, place.school, Membership.PARENT, place.school_class)
        if ParentLink.count_for(child) >= MAX_PARENTS:
            ParentInvitation.update(revoked_at=utcnow()).where(
                (ParentInvitation.student == child) & ParentInvitation.revoked_at.is_null()
            ).execute()
    notify(
        child,
        "parent_confirmed",
        _l("%(name)s confirmed your registration and is now your parent in Parta.", name=parent.full_name),
        url_for("auth.profile"),
    )
    return child


# Routes -------------------------------------------------------------------------------


@bp.route("/profile/parents/invite", methods=["POST"])
@login_required
def parent_invite_create():
    require_student(current_user)
    try:
        do_create_invitation(current_user, replace=request.form.get("replace") == "1")
    except ParentRefusal as refusal:
        flash(str(refusal.message), "error")
    else:
        if request.form.get("replace") == "1":
            flash(_("A new link has been made; the old one no longer works."))
    return redirect(url_for("auth.profile", _anchor="parents"), code=303)


@bp.route("/profile/parents/qr.svg")
@login_required
def parent_invite_qr():
    invitation = access_own_parent_invitation(current_user)
    svg = io.BytesIO()
    segno.make(invitation_url(invitation), error="m").save(
        svg, kind="svg", scale=5, border=2, xmldecl=False, title=_("Link for a parent")
    )
    response = make_response(svg.getvalue())
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _refused(refusal, invitation, token, status):
    return (
        render_template(
            "schools/parents_refused.html",
            refusal=refusal,
            child=invitation.student,
            token=token,
        ),
        status,
    )


@bp.route("/parent/<token>")
def parent_invite(token):
    invitation = access_parent_invitation(token)
    child = invitation.student
    if not current_user.is_authenticated:
        if ParentLink.count_for(child) >= MAX_PARENTS:
            return _refused(ParentRefusal.FULL, invitation, token, 403)
        session[PENDING_KEY] = token
        return render_template(
            "schools/parents_invitation.html", child=child, places=student_places(child), token=token
        )
    try:
        check_can_become_parent(current_user, invitation)
    except ParentRefusal as refusal:
        return _refused(refusal.kind, invitation, token, 403)
    if ParentLink.select().where(
        (ParentLink.parent == current_user.id)
        & (ParentLink.child == child)
        & ParentLink.confirmed_at.is_null(False)
    ).exists():
        return render_template("schools/parents_already.html", child=child)
    return _confirm_page(invitation, token, ProfileForm(obj=child))


def _confirm_page(invitation, token, form):
    child = invitation.student
    return render_template(
        "schools/parents_confirm.html",
        child=child,
        places=student_places(child),
        form=form,
        token=token,
    )


@bp.route("/parent/<token>/confirm", methods=["POST"])
@login_required
def parent_confirm(token):
    invitation = access_parent_invitation(token)
    try:
        check_can_become_parent(current_user, invitation)
    except ParentRefusal as refusal:
        return _refused(refusal.kind, invitation, token, 403)
    form = ProfileForm()
    if not form.validate_on_submit():
        return _confirm_page(invitation, token, form)
    try:
        child = do_confirm_child(current_user, invitation, form.data)
    except ParentRefusal as refusal:
        return _refused(refusal.kind, invitation, token, 403)
    if child is not None:
        flash(_("Done: %(name)s is now in your profile.", name=child.first_name))
    return redirect(url_for("auth.profile", _anchor="children"), code=303)


@bp.route("/parent/<token>/sign-out", methods=["POST"])
def parent_invite_signout(token):
    """The third way round for a shared device: the child signs out, the parent goes on."""
    logout_user()
    return redirect(url_for("schools.parent_invite", token=token), code=303)


@bp.before_app_request
def back_to_parent_invitation():
    """Once signed in (by sign-up or sign-in), a parent goes back to the child's link, once."""
    if (
        request.endpoint == "home.index"
        and request.method == "GET"
        and PENDING_KEY in session
        and current_user.is_authenticated
        and current_user.profile_complete
    ):
        token = session.pop(PENDING_KEY)
        return redirect(url_for("schools.parent_invite", token=token))
