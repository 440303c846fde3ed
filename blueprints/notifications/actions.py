"""``notify`` writes a notice in the recipient's own language."""
from flask_babel import force_locale

from db import database
from db.models import Notification, utcnow


def notify(user, kind, message, link=""):
    """``message`` is a lazy string (``_l("…", **params)``), rendered in ``user``'s locale."""
    with force_locale(user.locale or "ru"):
        text = str(message)
    return Notification.create(user=user, kind=kind, text=text, link=link)


def unread_count(user):
    return (
        Notification.select()
        .where((Notification.user == user) & Notification.read_at.is_null())
        .count()
    )


def do_mark_all_read(user):
    with database.atomic():
        Notification.update(read_at=utcnow()).where(
            (Notification.user == user) & Notification.read_at.is_null()
        ).execute()
