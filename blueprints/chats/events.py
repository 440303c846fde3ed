"""Socket.IO events of the chats area: as thin as views, each with its own connection.

A client joins a chat's room only as a member, and in its own language, so that what
is pushed is rendered once per language. Every answer goes back as the event's ack.
"""
from flask import render_template
from flask_babel import get_locale
from flask_login import current_user
from flask_socketio import join_room, leave_room

from blueprints.chats import actions, polls
from blueprints.chats.access import find_chat
from blueprints.extensions import LANGUAGES, socketio
from db import with_connection

NOT_FOUND = {"ok": False, "status": 404}


def _locale():
    locale = str(get_locale())
    return locale if locale in LANGUAGES else "ru"


@socketio.on("chat:join")
@with_connection
def join(data):
    """Join a chat's room and get what was missed since message ``after``."""
    data = data if isinstance(data, dict) else {}
    found = find_chat(current_user, data.get("chat_id"))
    if found is None:
        return NOT_FOUND
    chat, member = found
    join_room(actions.chat_room(chat.id, _locale()))
    try:
        after = max(int(data.get("after") or 0), 0)
    except (TypeError, ValueError):
        after = 0
    missed, more = actions.messages_after(chat, after)
    polls.with_viewer_votes(missed, current_user)
    html = render_template(
        "chats/_messages.html", messages=missed, viewer_id=current_user.id
    ) if missed else ""
    return {
        "ok": True,
        "html": html,
        "count": len(missed),
        "last_id": missed[-1].id if missed else after,
        "reload": more,
    }


@socketio.on("chat:leave")
@with_connection
def leave(data):
    data = data if isinstance(data, dict) else {}
    found = find_chat(current_user, data.get("chat_id"))
    if found is None:
        return NOT_FOUND
    leave_room(actions.chat_room(found[0].id, _locale()))
    return {"ok": True}


@socketio.on("chat:send")
@with_connection
def send(data):
    """Send a text message; ``client_id`` makes resending safe."""
    data = data if isinstance(data, dict) else {}
    found = find_chat(current_user, data.get("chat_id"))
    if found is None:
        return NOT_FOUND
    chat, _member = found
    try:
        message, created = actions.do_send_message(
            current_user, chat, data.get("client_id"), data.get("body"),
            reply_to_id=_int_or_none(data.get("reply_to")),
        )
    except actions.ChatError as error:
        return {"ok": False, "status": 400, "error": str(error.message)}
    return {"ok": True, "id": message.id, "created": created}


@socketio.on("chat:read")
@with_connection
def read(data):
    data = data if isinstance(data, dict) else {}
    found = find_chat(current_user, data.get("chat_id"))
    if found is None:
        return NOT_FOUND
    chat, member = found
    actions.do_mark_read(current_user, chat, member, data.get("up_to"))
    return {"ok": True}


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
