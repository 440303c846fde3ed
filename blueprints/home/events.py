"""Socket.IO: only signed-in people connect; each joins a room of their own."""
from flask_login import current_user
from flask_socketio import join_room

from blueprints.extensions import socketio
from db import with_connection


def user_room(user_id):
    return f"user:{user_id}"


@socketio.on("connect")
@with_connection
def connect(auth=None):
    if not current_user.is_authenticated:
        return False
    join_room(user_room(current_user.id))
    return True
