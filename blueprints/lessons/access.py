"""Who may start, join and run a lesson: decided here, for routes and socket events alike.

A lesson belongs to a chat. Its members join it (the host, teachers and students speak);
parents of the chat's students join a broadcast or a parent meeting as listeners. Anybody
else gets 404 and learns nothing about it.
"""
from flask import abort

from blueprints.chats.access import is_school_admin, is_staff
from db.models import Chat, ChatMember, Lesson, LessonParticipant, ParentLink

HOST, MEMBER, LISTENER = "host", "member", "listener"


def can_start(user, chat):
    """Teachers and administrators who are in a class or group chat call it."""
    return (
        user.is_authenticated
        and chat.kind in (Chat.CLASS, Chat.GROUP)
        and ChatMember.of(chat, user) is not None
        and is_staff(user, chat.school)
    )


def role_in(user, lesson):
    """``host``, ``member`` (speaks when allowed), ``listener`` (a parent), or None."""
    if not user.is_authenticated:
        return None
    if lesson.host_id == user.id:
        return HOST
    if ChatMember.of(lesson.chat_id, user) is not None:
        return MEMBER
    if lesson.parents_may_listen and _is_parent_in(user, lesson.chat_id):
        return LISTENER
    return None


def _is_parent_in(user, chat_id):
    children = ParentLink.select(ParentLink.child).where(
        (ParentLink.parent == user.id) & ParentLink.confirmed_at.is_null(False)
    )
    return ChatMember.select().where((ChatMember.chat == chat_id) & ChatMember.user.in_(children)).exists()


def find_lesson(user, lesson_id):
    """``(lesson, role)`` for someone who may be in lesson ``lesson_id``; else None."""
    try:
        lesson = Lesson.get_or_none(Lesson.id == int(lesson_id))
    except (TypeError, ValueError):
        return None
    role = role_in(user, lesson) if lesson else None
    return (lesson, role) if role else None


def access_lesson(user, lesson_id):
    found = find_lesson(user, lesson_id)
    if found is None:
        abort(404)
    return found


def is_host_or_admin(user, lesson, role):
    """The host runs the lesson; the school's administrators may too (someone must be able
    to end a lesson whose host has gone)."""
    return role == HOST or (role == MEMBER and is_school_admin(user, lesson.school))


def may_speak(lesson, participant, staff):
    """Whether a participant may turn their microphone on now."""
    if participant.role == LessonParticipant.LISTENER:
        return False
    return staff or participant.role == LessonParticipant.HOST or lesson.mics_allowed


def may_show(lesson, participant, staff):
    if participant.role == LessonParticipant.LISTENER:
        return False
    return staff or participant.role == LessonParticipant.HOST or lesson.cameras_allowed
