"""The yardstick of bench/fanout.py: Flask-SocketIO broadcasting to a room, and nothing else.

No database, no sign-in, no templates: what is left is the cost of Socket.IO on eventlet
itself. The pushed HTML is padded to about the size of Parta's rendered message, so both
servers put the same bytes on the wire. ``PORT`` and ``ASYNC_MODE`` come from the
environment, as in app.py.

Only app.py imports eventlet (tests/test_rtc.py holds us to it), so nothing here patches
the standard library. This server does no blocking I/O of its own, so it needs none; a
Redis message queue would (its listener reads a socket), which is why there is none here.
"""
import itertools
import os

from flask import Flask
from flask_socketio import SocketIO, join_room
from markupsafe import escape

HTML_BYTES = 1200  # Parta's _message.html for a one-line message

app = Flask(__name__)
socketio = SocketIO(app, async_mode=os.environ.get("ASYNC_MODE", "eventlet"))
message_ids = itertools.count(1)


@app.route("/healthz")
def healthz():
    return "ok"


@socketio.on("chat:join")
def join(data):
    join_room(f"chat:{data['chat_id']}")
    return {"ok": True, "html": "", "count": 0, "last_id": 0, "reload": False}


@socketio.on("chat:send")
def send(data):
    message_id = next(message_ids)
    html = f'<article id="m{message_id}" class="msg"><div class="msg-body">{escape(data["body"])}</div></article>'
    payload = {"chat_id": data["chat_id"], "id": message_id, "client_id": data["client_id"],
               "html": html.ljust(HTML_BYTES)}
    socketio.emit("chat:message", payload, to=f"chat:{data['chat_id']}")
    return {"ok": True, "id": message_id, "created": True}


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_output=False)
