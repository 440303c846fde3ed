"""Who may read, write and manage a chat: decided here, for routes and socket events alike.

A person who is not a member of a chat gets 404 for it (they learn nothing about it);
a member without the right to an action gets 403.
"""
from flask import abort

from blueprints.schools.access import roles_in
from db.models import Chat, ChatMember, Membership, Message, ParentLink, SchoolClass, User

STAFF = {Membership.ADMIN, Membership.TEACHER}


class ChatAccessError(Exception):
    """Raised where there is no HTTP response to abort with (socket events)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def find_chat(user, chat_id):
    """``(chat, member)`` if ``user`` is a member of chat ``chat_id``; else None."""
    if not user.is_authenticated:
        return None
    try:
        chat_id = int(chat_id)
    except (TypeError, ValueError):
        return None
    row = (
        ChatMember.select(ChatMember, Chat)
        .join(Chat)
        .where((ChatMember.chat == chat_id) & (ChatMember.user == user.id))
        .first()
    )
    return (row.chat, row) if row else None


def access_chat(user, chat_id):
    """``(chat, member)`` for a member; 404 for everybody else."""
    found = find_chat(user, chat_id)
    if found is None:
        abort(404)
    return found


def access_message(user, chat_id, message_id):
    """A message of a chat ``user`` is a member of: ``(chat, member, message)``."""
    chat, member = access_chat(user, chat_id)
    message = Message.get_or_none((Message.id == message_id) & (Message.chat == chat))
    if message is None:
        abort(404)
    return chat, member, message


def is_staff(user, school):
    return bool(roles_in(user, school) & STAFF)


def is_school_admin(user, school):
    return Membership.ADMIN in roles_in(user, school)


def can_write(user, chat):
    """Members write, unless the chat lets only teachers and administrators write."""
    return not chat.teachers_only or is_staff(user, chat.school)


def can_moderate(user, chat):
    """The chat's creator and the school's administrators set its rules and delete anything."""
    return chat.created_by_id == user.id or is_school_admin(user, chat.school)


def can_delete(user, chat, message):
    return message.author_id == user.id or can_moderate(user, chat)


def can_edit(user, message):
    return message.author_id == user.id and message.kind != Message.POLL


def can_announce(user, chat):
    return is_staff(user, chat.school)


def can_create_group_chat(user, school):
    """Teachers and administrators make group chats (a group, an event, a class's teachers)."""
    return is_staff(user, school)


def can_create_class_chat(user, school_class):
    """The class's teachers and the school's administrators make its chats."""
    if is_school_admin(user, school_class.school):
        return True
    return (
        Membership.select()
        .where(
            (Membership.user == user.id)
            & (Membership.role == Membership.TEACHER)
            & (Membership.school_class == school_class)
        )
        .exists()
    )


def can_join(user, chat):
    """A public chat is open to its school's staff; a class chat also to the class's students."""
    if not chat.is_public or not user.is_authenticated:
        return False
    roles = roles_in(user, chat.school)
    if roles & STAFF:
        return True
    if chat.school_class_id is None:
        return Membership.STUDENT in roles
    return (
        Membership.select()
        .where(
            (Membership.user == user.id)
            & (Membership.role == Membership.STUDENT)
            & (Membership.school_class == chat.school_class_id)
        )
        .exists()
    )


def _classes_of_children(parent, school):
    children = ParentLink.select(ParentLink.child).where(
        (ParentLink.parent == parent.id) & ParentLink.confirmed_at.is_null(False)
    )
    return (
        Membership.select(Membership.school_class)
        .where(
            Membership.user.in_(children)
            & (Membership.school == school)
            & (Membership.role == Membership.STUDENT)
        )
    )


def _teaches_class_of(staff, classes, school):
    if Membership.ADMIN in roles_in(staff, school):
        return True
    return (
        Membership.select()
        .where(
            (Membership.user == staff.id)
            & (Membership.role == Membership.TEACHER)
            & Membership.school_class.in_(classes)
        )
        .exists()
    )


def can_chat_personally(user, other, school):
    """Two members of ``school`` may talk; a parent talks to their child, the child's
    teachers and the school's administrators, but not to other parents or children."""
    if not user.is_authenticated or user.id == other.id:
        return False
    mine, theirs = roles_in(user, school), roles_in(other, school)
    if not mine or not theirs:
        return False
    own_roles, other_roles = mine - {Membership.PARENT}, theirs - {Membership.PARENT}
    if own_roles and other_roles:
        return True
    linked = ParentLink.select().where(
        ((ParentLink.parent == user.id) & (ParentLink.child == other.id))
        | ((ParentLink.parent == other.id) & (ParentLink.child == user.id))
    ).where(ParentLink.confirmed_at.is_null(False)).exists()
    if linked:
        return True
    if not own_roles and other_roles & STAFF:
        return _teaches_class_of(other, _classes_of_children(user, school), school)
    if not other_roles and own_roles & STAFF:
        return _teaches_class_of(user, _classes_of_children(other, school), school)
    return False


def access_school_class(user, class_id):
    school_class = SchoolClass.get_or_none(SchoolClass.id == class_id)
    if school_class is None or not roles_in(user, school_class.school):
        abort(404)
    return school_class


def personal_partners_in(user, school, memberships):
    """Ids of the people among ``memberships`` whom ``user`` may write to personally
    (the rule of ``can_chat_personally``, for a whole list in a few queries)."""
    mine = roles_in(user, school)
    by_user = {}
    for m in memberships:
        by_user.setdefault(m.user_id, set()).add(m.role)
    linked = {
        row.child_id if row.parent_id == user.id else row.parent_id
        for row in ParentLink.select().where(
            ((ParentLink.parent == user.id) | (ParentLink.child == user.id))
            & ParentLink.confirmed_at.is_null(False)
        )
    }
    own = mine - {Membership.PARENT}
    allowed = set()
    if own:
        allowed |= {uid for uid, roles in by_user.items() if roles - {Membership.PARENT}}
        if own & STAFF:
            parents = {uid for uid, roles in by_user.items() if roles == {Membership.PARENT}}
            allowed |= {p for p in parents if can_chat_personally(user, User(id=p), school)}
    elif mine:
        staff = {uid for uid, roles in by_user.items() if roles & STAFF}
        allowed |= {s for s in staff if can_chat_personally(user, User(id=s), school)}
    allowed |= linked & set(by_user)
    allowed.discard(user.id)
    return allowed

