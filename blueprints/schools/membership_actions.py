"""Correcting roles and naming leaders: writes an administrator makes to memberships."""
from flask_babel import lazy_gettext as _l

from db import database
from db.models import Membership

ROLE_CHOICES = (
    (Membership.ADMIN, _l("administrator")),
    (Membership.TEACHER, _l("teacher")),
    (Membership.STUDENT, _l("student")),
    (Membership.PARENT, _l("parent")),
)
POSITION_MAX = 128


class MembershipError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_role_change(membership, role):
    if role not in dict(ROLE_CHOICES):
        raise MembershipError(_l("Choose one of the roles in the list."))
    if (
        membership.role == Membership.ADMIN
        and role != Membership.ADMIN
        and Membership.admins_of(membership.school).count() <= 1
    ):
        raise MembershipError(_l("A school needs at least one administrator: appoint another first."))


def do_change_role(membership, role):
    check_role_change(membership, role)
    with database.atomic():
        clash = Membership.get_or_none(
            (Membership.user == membership.user_id)
            & (Membership.school == membership.school_id)
            & (Membership.role == role)
            & (
                Membership.school_class.is_null()
                if membership.school_class_id is None
                else Membership.school_class == membership.school_class_id
            )
            & (Membership.id != membership.id)
        )
        if clash is not None:
            membership.delete_instance()
            return clash
        membership.role = role
        if role not in (Membership.TEACHER,):
            membership.subject = ""
        if role in (Membership.ADMIN,):
            membership.school_class = None
        membership.save()
        return membership


def do_set_position(membership, position):
    position = (position or "").strip()
    if len(position) > POSITION_MAX:
        raise MembershipError(_l("At most %(max)d characters.", max=POSITION_MAX))
    with database.atomic():
        membership.position = position
        membership.save()
    return membership
