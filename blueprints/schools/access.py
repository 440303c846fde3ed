"""Who may do what in a school: decided here, in one place, for the whole area.

Outsiders get 404 (they learn nothing about a school); members without the right
get 403.
"""
from flask import abort, make_response, render_template

from blueprints.schools.tokens import hash_token
from db.models import (
    Invitation,
    JoinRequest,
    Membership,
    ParentInvitation,
    ParentLink,
    School,
    SchoolClass,
)


def roles_in(user, school):
    """The roles ``user`` holds in ``school``: a subset of admin, teacher, student, parent."""
    if not user.is_authenticated:
        return set()
    return {m.role for m in Membership.of(user, school)}


def is_admin(user, school):
    return Membership.ADMIN in roles_in(user, school)


def is_class_teacher(user, school_class):
    return user.is_authenticated and school_class.class_teacher_id == user.id


def access_school(user, school_id):
    """The school if ``user`` belongs to it; 404 otherwise, so outsiders learn nothing."""
    school = School.get_or_none(School.id == school_id)
    if school is None or not user.is_authenticated:
        abort(404)
    if not Membership.of(user, school).exists():
        abort(404)
    return school


def access_school_admin(user, school_id):
    """The school if ``user`` administers it: 404 for outsiders, 403 for other members."""
    school = access_school(user, school_id)
    if not is_admin(user, school):
        abort(403)
    return school


def access_class(user, school_id, class_id):
    """A class of a school ``user`` belongs to."""
    school = access_school(user, school_id)
    school_class = SchoolClass.get_or_none(
        (SchoolClass.id == class_id) & (SchoolClass.school == school)
    )
    if school_class is None:
        abort(404)
    return school, school_class


def can_invite(user, school, role, school_class=None):
    """Administrators invite anyone; a class teacher invites students of their class."""
    if is_admin(user, school):
        return True
    return (
        role == Membership.STUDENT
        and school_class is not None
        and is_class_teacher(user, school_class)
    )


def can_decide(user, join_request):
    """Administrators decide every request; a class teacher, students' requests to their class."""
    return can_invite(user, join_request.school, join_request.role, join_request.school_class)


def require_operator(user):
    if not user.is_authenticated:
        abort(404)
    if not user.is_operator:
        abort(404)


def is_class_teacher_in(user, school):
    """Whether ``user`` is the class teacher of some class of ``school``."""
    return (
        user.is_authenticated
        and SchoolClass.select()
        .where((SchoolClass.school == school) & (SchoolClass.class_teacher == user.id))
        .exists()
    )


def access_invitations(user, school_id):
    """Links and requests of a school: its administrators and class teachers (403 for others)."""
    school = access_school(user, school_id)
    if not (is_admin(user, school) or is_class_teacher_in(user, school)):
        abort(403)
    return school


def access_invitation(user, school_id, invitation_id):
    """An invitation ``user`` may manage (revoke): as ``can_invite`` for its role and class."""
    school = access_invitations(user, school_id)
    invitation = Invitation.get_or_none(
        (Invitation.id == invitation_id) & (Invitation.school == school)
    )
    if invitation is None:
        abort(404)
    if not can_invite(user, school, invitation.role, invitation.school_class):
        abort(403)
    return school, invitation


def access_join_request(user, school_id, request_id):
    """A join request ``user`` may decide: 404 if not of this school, 403 without the right."""
    school = access_invitations(user, school_id)
    join_request = JoinRequest.get_or_none(
        (JoinRequest.id == request_id) & (JoinRequest.school == school)
    )
    if join_request is None:
        abort(404)
    if not can_decide(user, join_request):
        abort(403)
    return school, join_request


def pickable_teachers(user, school):
    """«Добавить учителя»: an administrator picks any teacher of the school, a teacher only themself."""
    if is_admin(user, school):
        return list(school.people(Membership.TEACHER))
    if Membership.TEACHER in roles_in(user, school):
        return [user]
    return []


def is_student(user):
    return user.is_authenticated and Membership.holds(user, Membership.STUDENT)


def require_student(user):
    """Only a student creates links for their parents; others get 403."""
    if not is_student(user):
        abort(403)


def access_own_parent_invitation(user):
    """The live parents' link of ``user`` themself; 404 for everybody and everything else."""
    invitation = ParentInvitation.live_for(user) if is_student(user) else None
    if invitation is None:
        abort(404)
    return invitation


def access_parent_invitation(token):
    """The parents' link ``token`` names; 404 if unknown or replaced.

    A link revoked because the child has two parents stays known, so that it can say why
    it no longer works.
    """
    invitation = ParentInvitation.get_or_none(ParentInvitation.token_hash == hash_token(token))
    if invitation is None or (
        invitation.revoked_at is not None
        and ParentLink.count_for(invitation.student) < ParentLink.MAX_PER_CHILD
    ):
        page = render_template("schools/parents_refused.html", refusal="gone")
        abort(make_response(page, 404))
    return invitation


def access_membership(school, membership_id, roles=None):
    """A membership of ``school`` (optionally of one of ``roles``); 404 for anything else."""
    condition = (Membership.id == membership_id) & (Membership.school == school)
    if roles:
        condition &= Membership.role.in_(roles)
    membership = Membership.get_or_none(condition)
    if membership is None:
        abort(404)
    return membership
