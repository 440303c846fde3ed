from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from blueprints.notifications.actions import do_mark_all_read
from db.models import Notification

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    notices = list(
        Notification.select()
        .where(Notification.user == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(100)
    )
    return render_template("notifications/index.html", notices=notices)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    do_mark_all_read(current_user)
    return redirect(url_for("notifications.index"), code=303)
