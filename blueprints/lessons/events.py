"""Socket.IO signalling of the call screen: the browser's SDP goes through the web app's own
origin to the rtc process on loopback, never to a second public port.

Each event checks who is asking, as the routes do; answers go back as the event's ack,
``{"ok": False, "error": "<said in the person's language>"}`` on refusal.
"""
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room, leave_room

from blueprints.chats.access import is_staff
from blueprints.extensions import socketio
from blueprints.lessons import access, actions, media
from blueprints.lessons.actions import LessonError
from blueprints.lessons.media import MediaError
from db import database, with_connection
from db.models import Lesson, User

MAX_SDP = 20_000
GRACE_SECONDS = 30  # a reload or a lost link is not leaving: the lesson waits this long
# sid → (lesson id, user id): a closed tab leaves the lesson. Sockets stay with the process
# that accepted them, so this process-local map is enough even with several web processes.
_joined = {}


def _lesson(data):
    data = data if isinstance(data, dict) else {}
    found = access.find_lesson(current_user, data.get("lesson_id"))
    if found is None:
        raise LessonError(_("There is no such lesson, or it is not open to you."), 404)
    lesson, role = found
    if not lesson.is_running:
        raise LessonError(_("This lesson has ended."), 410)
    return lesson, role, data


def _refusal(error):
    if isinstance(error, MediaError):
        if error.code == "room_full":
            return {"ok": False, "status": 409, "error": _("The lesson is full: %(max)d people are in it already. Try again when someone leaves.", max=Lesson.MAX_PARTICIPANTS)}
        return {"ok": False, "status": 502, "error": _("The lesson's media server does not answer. Try again in a minute.")}
    return {"ok": False, "status": error.status, "error": str(error.message)}


def _in_it(lesson):
    """The socket's person must have joined (lesson:join) before sending media."""
    return actions.own_participant(lesson, current_user)


def _named(slots):
    """The rtc process knows people by id: the call screen labels tiles with names."""
    slots = dict(slots or {})
    ids = {int(s["pid"]) for s in slots.values() if str(s.get("pid", "")).isdigit()}
    names = {u.id: u.short_name for u in User.select().where(User.id.in_(list(ids)))} if ids else {}
    for slot in slots.values():
        if str(slot.get("pid", "")).isdigit():
            slot["name"] = names.get(int(slot["pid"]), "")
    return slots


def _sdp(data):
    sdp = data.get("sdp")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise LessonError(_("The browser sent a connection description that cannot be used."), 400)
    return sdp


def _event(handler):
    def run(data=None):
        try:
            return handler(*_lesson(data))
        except (LessonError, MediaError) as error:
            return _refusal(error)

    run.__name__ = handler.__name__
    return with_connection(run)


@socketio.on("lesson:join")
@_event
def join(lesson, role, data):
    participant = actions.do_join(current_user, lesson, role)
    try:
        media.join(lesson, current_user.id, role)
    except MediaError:
        actions.do_leave(current_user, lesson, end_if_empty=False)  # a hiccup of rtc ends nothing
        raise
    media.set_media(lesson.id, current_user.id, participant.audio_on, participant.video_on)
    join_room(actions.lesson_room(lesson.id))
    _joined[request.sid] = (lesson.id, current_user.id)
    staff = is_staff(current_user, lesson.school)
    return {
        "ok": True,
        "role": role,
        "ice_servers": media.ice_servers(current_user.id),
        "may_publish": role != access.LISTENER,
        "may_speak": access.may_speak(lesson, participant, staff),
        "may_show": access.may_show(lesson, participant, staff),
        "audio": participant.audio_on,
        "video": participant.video_on,
    }


@socketio.on("lesson:publish")
@_event
def publish(lesson, role, data):
    if role == access.LISTENER:
        raise LessonError(_("Listeners do not send sound or video."), 403)
    _in_it(lesson)
    mids = [str(m) for m in (data.get("screen_mids") or [])][:2]
    answer = media.publish(lesson.id, current_user.id, _sdp(data), mids)
    return {"ok": True, "sdp": answer["sdp"], "type": answer["type"]}


@socketio.on("lesson:subscribe")
@_event
def subscribe(lesson, role, data):
    _in_it(lesson)
    mode = data.get("mode") if data.get("mode") in actions.MODES else "speaker"
    offer = media.subscribe(lesson.id, current_user.id, mode)
    return {"ok": True, "sdp": offer["sdp"], "type": offer["type"], "slots": _named(offer.get("slots"))}


@socketio.on("lesson:answer")
@_event
def answer(lesson, role, data):
    _in_it(lesson)
    media.answer(lesson.id, current_user.id, _sdp(data))
    return {"ok": True}


@socketio.on("lesson:mode")
@_event
def mode(lesson, role, data):
    _in_it(lesson)
    if data.get("mode") not in actions.MODES:
        raise LessonError(_("Choose how to see the lesson."), 400)
    answer = media.set_mode(lesson.id, current_user.id, data["mode"])
    return {"ok": True, "slots": _named(answer.get("slots"))}


@socketio.on("lesson:slots")
@_event
def slots(lesson, role, data):
    _in_it(lesson)
    return {"ok": True, "slots": _named(media.slots(lesson.id, current_user.id).get("slots"))}


@socketio.on("lesson:media")
@_event
def own_media(lesson, role, data):
    participant = actions.do_set_media(current_user, lesson, bool(data.get("audio")), bool(data.get("video")))
    return {"ok": True, "audio": participant.audio_on, "video": participant.video_on}


@socketio.on("lesson:hand")
@_event
def hand(lesson, role, data):
    participant = actions.do_hand(current_user, lesson, bool(data.get("raised")))
    return {"ok": True, "raised": participant.hand_raised_at is not None}


@socketio.on("lesson:leave")
@_event
def leave(lesson, role, data):
    _joined.pop(request.sid, None)
    leave_room(actions.lesson_room(lesson.id))
    actions.do_leave(current_user, lesson)
    return {"ok": True}


@socketio.on("disconnect")
@with_connection
def disconnect(*_args):
    """A closed tab or a lost phone leaves the lesson; coming back joins it again. A lesson
    left empty this way ends only if nobody is back after ``GRACE_SECONDS``: the host who
    reloads the page finds it still running."""
    joined = _joined.pop(request.sid, None)
    if joined is None or not current_user.is_authenticated or any(v == joined for v in _joined.values()):
        return  # not in a lesson, or still in it from another tab
    lesson = Lesson.get_or_none(Lesson.id == joined[0])
    if lesson is None or not lesson.is_running:
        return
    if actions.do_leave(current_user, lesson, end_if_empty=False):
        socketio.start_background_task(_end_if_still_empty, current_app._get_current_object(), lesson.id)


def _end_if_still_empty(app, lesson_id):
    socketio.sleep(GRACE_SECONDS)
    with app.app_context(), database.connection_context():
        lesson = Lesson.get_or_none(Lesson.id == lesson_id)
        if lesson is not None and lesson.is_running and not actions.present(lesson):
            with app.test_request_context():
                actions.do_end(lesson)
