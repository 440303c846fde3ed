from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from blueprints.notifications.actions import do_mark_all_read
from blueprints.pagination import after_id, keyset_page, render_list
from db.models import Notification

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 50


@bp.route("/notifications")
@login_required
def index():
    notices = keyset_page(
        Notification.select().where(Notification.user == current_user.id),
        (Notification.created_at, Notification.id),
        Notification.id,
        after_id(),
        PAGE_SIZE,
        descending=True,
    )
    return render_list(
        "notifications/index.html", "notifications/_notices.html", "notices", notices=notices
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    do_mark_all_read(current_user)
    return redirect(url_for("notifications.index"), code=303)
