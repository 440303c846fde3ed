"""Lessons: ``check_*`` validates what can fail, ``do_*`` writes and then pushes.

Pushes carry no data: «lesson:changed» tells the call screens in the lesson's room to fetch
their own panel again (each sees it as their role allows); invitations and the host's
decisions about one person go to that person's own room.
"""
import datetime as dt

from flask import url_for
from flask_babel import lazy_gettext as _l

from blueprints.chats.access import is_staff
from blueprints.extensions import socketio
from blueprints.home.events import user_room
from blueprints.lessons import access, media
from blueprints.notifications.actions import notify
from db import database
from db.models import Chat, ChatMember, Lesson, LessonParticipant, Notification, ParentLink, User, utcnow

KINDS = (Lesson.LESSON, Lesson.BROADCAST, Lesson.PARENT_MEETING)
MODES = ("audio", "speaker", "grid")


class LessonError(Exception):
    """Said to the person in their language; nothing was changed."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def lesson_room(lesson_id):
    return f"lesson:{lesson_id}"


def running_in(chat_ids):
    """The running lesson of each chat among ``chat_ids``: ``{chat_id: lesson}``."""
    if not chat_ids:
        return {}
    lessons = Lesson.select().where(Lesson.chat.in_(list(chat_ids)) & Lesson.ended_at.is_null())
    return {lesson.chat_id: lesson for lesson in lessons}


def running_for(user):
    """Running lessons ``user`` may join, newest first: those of their chats, and for a
    parent the broadcasts and parent meetings of their children's chats."""
    mine = ChatMember.select(ChatMember.chat).where(ChatMember.user == user.id)
    children = ParentLink.select(ParentLink.child).where(
        (ParentLink.parent == user.id) & ParentLink.confirmed_at.is_null(False)
    )
    childrens = ChatMember.select(ChatMember.chat).where(ChatMember.user.in_(children))
    return list(
        Lesson.select(Lesson, Chat).join(Chat)
        .where(Lesson.ended_at.is_null() & (
            Lesson.chat.in_(mine)
            | (Lesson.kind.in_([Lesson.BROADCAST, Lesson.PARENT_MEETING]) & Lesson.chat.in_(childrens))
        ))
        .order_by(Lesson.started_at.desc())
    )


def class_call_chats(user, class_ids):
    """For the camera button of each taught class: ``{class_id: chat_id}`` of a class chat
    ``user`` is in and may call."""
    if not class_ids:
        return {}
    chats = (
        Chat.select().join(ChatMember)
        .where((ChatMember.user == user.id) & (Chat.kind == Chat.CLASS) & Chat.school_class.in_(list(class_ids)))
        .order_by(Chat.id)
    )
    found, staff = {}, {}
    for chat in chats:  # a member already (the join); staff decided once per school
        if chat.school_id not in staff:
            staff[chat.school_id] = is_staff(user, chat.school_id)
        if staff[chat.school_id]:
            found.setdefault(chat.school_class_id, chat.id)
    return found


def present(lesson):
    """Who is in the lesson now, the host first, then by arrival."""
    return list(
        LessonParticipant.select(LessonParticipant, User).join(User)
        .where((LessonParticipant.lesson == lesson) & LessonParticipant.left_at.is_null())
        .order_by(LessonParticipant.role != LessonParticipant.HOST, LessonParticipant.joined_at, LessonParticipant.id)
    )


def hand_queue(people):
    """Raised hands in the order they were raised."""
    return sorted((p for p in people if p.hand_raised_at), key=lambda p: (p.hand_raised_at, p.id))


def check_kind(kind):
    if kind not in KINDS:
        raise LessonError(_l("Choose what kind of lesson this is."))
    return kind


def check_invited(chat, user, ids):
    """The chat's members picked to be called (everybody when none were picked)."""
    members = {m.user_id for m in ChatMember.select(ChatMember.user).where(ChatMember.chat == chat)}
    members.discard(user.id)
    if not ids:
        return members
    try:
        picked = {int(i) for i in ids}
    except (TypeError, ValueError):
        raise LessonError(_l("Pick people from this chat.")) from None
    if not picked <= members:
        raise LessonError(_l("Pick people from this chat."))
    return picked


def do_start(host, chat, kind, invited_ids):
    """Start a lesson in ``chat`` (or join the one already running there) and call people."""
    with database.atomic():
        lesson = Lesson.get_or_none((Lesson.chat == chat) & Lesson.ended_at.is_null())
        started = lesson is None
        if started:
            lesson = Lesson.create(school=chat.school_id, chat=chat, host=host, kind=kind)
    if started:
        do_invite(host, lesson, invited_ids)
    return lesson, started


def do_invite(inviter, lesson, user_ids):
    """A notification and a live invitation with «Присоединиться» for each person."""
    link = url_for("lessons.call", lesson_id=lesson.id)
    for user in User.select().where(User.id.in_(list(user_ids))):
        notify(user, INVITATION_KIND, _l("%(name)s invites you to a video lesson.", name=inviter.full_name), link=link)
        socketio.emit("lesson:invite", {"lesson_id": lesson.id, "url": link, "from": inviter.full_name},
                      to=user_room(user.id))


INVITATION_KIND = "lesson"
INVITATION_FRESH = dt.timedelta(hours=12)


def _invitations(user, lesson=None):
    query = Notification.select().where(
        (Notification.user == user) & (Notification.kind == INVITATION_KIND) & Notification.read_at.is_null()
    )
    if lesson is not None:
        query = query.where(Notification.link == url_for("lessons.call", lesson_id=lesson.id))
    return query


def pending_invitation(user):
    """``(notification, lesson)``: the newest unread invitation to a lesson still running, or None.

    Pages without a socket ask for it every few seconds (templates/lessons/_invitation.html).
    """
    recent = (
        _invitations(user).where(Notification.created_at >= utcnow() - INVITATION_FRESH)
        .order_by(Notification.id.desc()).limit(10)
    )
    prefix = url_for("lessons.call", lesson_id=0)[:-1]  # the links are the call screens'
    notices = {}  # lesson id -> its newest notice, newest lessons first
    for notice in recent:
        tail = notice.link[len(prefix):]
        if notice.link.startswith(prefix) and tail.isdigit():
            notices.setdefault(int(tail), notice)
    if not notices:
        return None
    running = {
        lesson.id: lesson
        for lesson in Lesson.select().where(Lesson.id.in_(list(notices)) & Lesson.ended_at.is_null())
    }
    return next(((notice, running[i]) for i, notice in notices.items() if i in running), None)


def do_read_invitations(user, lesson):
    """Joining, or «Не сейчас», settles this lesson's invitations for ``user``."""
    with database.atomic():
        Notification.update(read_at=utcnow()).where(
            Notification.id.in_(_invitations(user, lesson).select(Notification.id))
        ).execute()


def do_join(user, lesson, role):
    """Enter a running lesson: at most ``Lesson.MAX_PARTICIPANTS`` at once; someone the host
    removed does not come back. Students come in muted with their cameras off."""
    if not lesson.is_running:
        raise LessonError(_l("This lesson has ended."), 410)
    with database.atomic():
        Lesson.update(started_at=Lesson.started_at).where(Lesson.id == lesson.id).execute()  # serialises joins
        participant = LessonParticipant.get_or_none(lesson=lesson, user=user)
        if participant is not None and participant.removed:
            raise LessonError(_l("The host has removed you from this lesson."), 403)
        if participant is None or participant.left_at is not None:
            here = LessonParticipant.select().where(
                (LessonParticipant.lesson == lesson) & LessonParticipant.left_at.is_null()
            ).count()
            if here >= lesson.MAX_PARTICIPANTS:
                raise LessonError(_l(
                    "The lesson is full: %(max)d people are in it already. Try again when someone leaves.",
                    max=lesson.MAX_PARTICIPANTS,
                ), 409)
        db_role = {access.HOST: LessonParticipant.HOST, access.LISTENER: LessonParticipant.LISTENER}.get(
            role, LessonParticipant.STUDENT
        )
        if participant is None:
            participant = LessonParticipant.create(lesson=lesson, user=user, role=db_role)
        elif participant.left_at is not None:
            participant.left_at, participant.hand_raised_at = None, None
            participant.audio_on = participant.video_on = False
            participant.joined_at = utcnow()
            participant.save()
    changed(lesson)
    return participant


def do_leave(user, lesson, end_if_empty=True):
    """Leave; the last one out ends the lesson (``end_if_empty``). True if nobody is left."""
    with database.atomic():
        left = LessonParticipant.update(left_at=utcnow(), hand_raised_at=None, audio_on=False, video_on=False).where(
            (LessonParticipant.lesson == lesson) & (LessonParticipant.user == user.id)
            & LessonParticipant.left_at.is_null()
        ).execute()
        nobody = not LessonParticipant.select().where(
            (LessonParticipant.lesson == lesson) & LessonParticipant.left_at.is_null()
        ).exists()
    media.leave(lesson.id, user.id)
    if left and nobody and lesson.is_running and end_if_empty:
        do_end(lesson)
    elif left:
        changed(lesson)
    return nobody


def do_end(lesson):
    with database.atomic():
        ended = Lesson.update(ended_at=utcnow()).where((Lesson.id == lesson.id) & Lesson.ended_at.is_null()).execute()
        LessonParticipant.update(left_at=utcnow(), hand_raised_at=None).where(
            (LessonParticipant.lesson == lesson) & LessonParticipant.left_at.is_null()
        ).execute()
    lesson.ended_at = lesson.ended_at or utcnow()
    media.close_room(lesson.id)
    if ended:
        socketio.emit("lesson:ended", {"lesson_id": lesson.id}, to=lesson_room(lesson.id))


def _here(lesson, user_id):
    return LessonParticipant.get_or_none(
        (LessonParticipant.lesson == lesson) & (LessonParticipant.user == user_id) & LessonParticipant.left_at.is_null()
    )


def participant_of(lesson, user_id):
    """Someone in the lesson now, for what the host does to them."""
    participant = _here(lesson, user_id)
    if participant is None:
        raise LessonError(_l("This person is not in the lesson."), 404)
    return participant


def own_participant(lesson, user):
    """The person's own place in the lesson, for what they do themselves."""
    participant = _here(lesson, user.id)
    if participant is None:
        raise LessonError(_l("Join the lesson first."), 409)
    return participant


def do_set_media(user, lesson, audio, video):
    """Turn one's own microphone and camera on or off, as the host allows."""
    participant = own_participant(lesson, user)
    staff = is_staff(user, lesson.school)
    if audio and not participant.audio_on and not access.may_speak(lesson, participant, staff):
        raise LessonError(_l("The host has turned students' microphones off."), 403)
    if video and not participant.video_on and not access.may_show(lesson, participant, staff):
        raise LessonError(_l("The host has turned students' cameras off."), 403)
    participant.audio_on, participant.video_on = bool(audio), bool(video)
    participant.save()
    media.set_media(lesson.id, user.id, participant.audio_on, participant.video_on)
    changed(lesson)
    return participant


def do_hand(user, lesson, raised):
    participant = own_participant(lesson, user)
    if participant.role == LessonParticipant.LISTENER:
        raise LessonError(_l("Listeners cannot raise a hand."), 403)
    participant.hand_raised_at = (participant.hand_raised_at or utcnow()) if raised else None
    participant.save()
    changed(lesson)
    return participant


# The host's panel ---------------------------------------------------------------------------


def do_mute_all(lesson):
    """Every microphone but the host's goes off."""
    muted = [p for p in present(lesson) if p.audio_on and p.role != LessonParticipant.HOST]
    for participant in muted:
        participant.audio_on = False
        participant.save()
        media.set_media(lesson.id, participant.user_id, False, participant.video_on)
        socketio.emit("lesson:muted", {"lesson_id": lesson.id, "audio": False}, to=user_room(participant.user_id))
    changed(lesson)
    return len(muted)


def do_lower_hand(lesson, user_id=None):
    """Lower one hand, or all of them."""
    query = LessonParticipant.update(hand_raised_at=None).where(LessonParticipant.lesson == lesson)
    if user_id is not None:
        query = query.where(LessonParticipant.user == user_id)
    query.execute()
    changed(lesson)


def do_remove(host, lesson, user_id):
    if user_id == lesson.host_id or user_id == host.id:
        raise LessonError(_l("The host cannot remove themselves: end the lesson instead."))
    participant = participant_of(lesson, user_id)
    participant.left_at, participant.removed, participant.hand_raised_at = utcnow(), True, None
    participant.audio_on = participant.video_on = False
    participant.save()
    media.leave(lesson.id, user_id)
    socketio.emit("lesson:removed", {"lesson_id": lesson.id}, to=user_room(user_id))
    changed(lesson)


def do_settings(lesson, mics_allowed, cameras_allowed):
    """Allow or forbid students' microphones and cameras; forbidding turns them off now."""
    lesson.mics_allowed, lesson.cameras_allowed = bool(mics_allowed), bool(cameras_allowed)
    lesson.save()
    for participant in present(lesson):
        if participant.role != LessonParticipant.STUDENT or is_staff(participant.user, lesson.school):
            continue
        audio = participant.audio_on and lesson.mics_allowed
        video = participant.video_on and lesson.cameras_allowed
        if (audio, video) != (participant.audio_on, participant.video_on):
            participant.audio_on, participant.video_on = audio, video
            participant.save()
            media.set_media(lesson.id, participant.user_id, audio, video)
            socketio.emit("lesson:muted", {"lesson_id": lesson.id, "audio": audio, "video": video},
                          to=user_room(participant.user_id))
    changed(lesson)


def changed(lesson):
    socketio.emit("lesson:changed", {"lesson_id": lesson.id}, to=lesson_room(lesson.id))
