"""Writes shared by the schools area: memberships, and claiming roster entries."""
from db import database
from db.models import Membership, ParentLink, RosterPerson, SchoolClass, User, utcnow


def do_add_membership(user, school, role, school_class=None, subject="", position=""):
    """Give ``user`` a role in ``school`` (idempotent); returns the membership."""
    membership, _created = Membership.get_or_create(
        user=user,
        school=school,
        role=role,
        school_class=school_class,
        subject=subject,
        defaults={"position": position},
    )
    return membership


def _split(ids):
    return [part for part in (ids or "").split(",") if part]


def _classes(school, sourced_ids):
    if not sourced_ids:
        return []
    return list(
        SchoolClass.select().where(
            (SchoolClass.school == school) & SchoolClass.sourced_id.in_(sourced_ids)
        )
    )


def _link_parent(parent, child):
    if parent.id == child.id:
        return  # one account found as both parent and child: never its own parent
    link, created = ParentLink.get_or_create(
        parent=parent, child=child, defaults={"confirmed_at": utcnow()}
    )
    if not created and link.confirmed_at is None:
        link.confirmed_at = utcnow()
        link.save()


def do_claim_roster_entries(user):
    """A person found in an imported roster (by phone or email) joins without a request.

    Runs after sign-up and sign-in; parents and children from the same roster get
    linked, whichever of them comes first.
    """
    keys = [RosterPerson.phone == user.phone] if user.phone else []
    if user.email:
        keys.append(RosterPerson.email == user.email)
    if not keys:
        return []
    match = keys[0] if len(keys) == 1 else keys[0] | keys[1]
    entries = list(RosterPerson.select().where(match & RosterPerson.user.is_null()))
    with database.atomic():
        for entry in entries:
            entry.user = user
            entry.save()
            classes = _classes(entry.school, _split(entry.class_sourced_ids))
            if entry.role in (Membership.STUDENT, Membership.TEACHER) and classes:
                for school_class in classes:
                    do_add_membership(user, entry.school, entry.role, school_class)
            else:
                # An administrator accepted with a school application holds that post.
                position = "Администратор" if entry.sourced_id.startswith("application-") else ""
                do_add_membership(user, entry.school, entry.role, position=position)
            _link_roster_family(entry)
    return entries


def _link_roster_family(entry):
    """Link ``entry`` to the already-claimed parents or children named in the roster."""
    if entry.role == Membership.STUDENT:
        parents = RosterPerson.select().where(
            (RosterPerson.school == entry.school)
            & RosterPerson.sourced_id.in_(_split(entry.agent_sourced_ids))
            & RosterPerson.user.is_null(False)
        )
        for parent in parents:
            _link_parent(User.get_by_id(parent.user_id), entry.user)
    elif entry.role == Membership.PARENT:
        children = RosterPerson.select().where(
            (RosterPerson.school == entry.school)
            & (RosterPerson.role == Membership.STUDENT)
            & RosterPerson.user.is_null(False)
        )
        for child in children:
            if entry.sourced_id in _split(child.agent_sourced_ids):
                _link_parent(entry.user, User.get_by_id(child.user_id))
