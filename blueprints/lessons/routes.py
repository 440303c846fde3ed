"""Lessons over HTTP: starting one (from a chat or from the home page), the call screen, its
panel, and the host's controls. Every control is a plain form that htmx may send; the media
and the live state go over Socket.IO (events.py) and the rtc process."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.chats import actions as chat_actions
from blueprints.chats.access import access_chat, find_chat, is_staff
from blueprints.lessons import access, actions
from blueprints.lessons.actions import LessonError
from db.models import Chat, ChatMember, Lesson, Membership

bp = Blueprint("lessons", __name__)


def _back(lesson):
    return redirect(url_for("lessons.call", lesson_id=lesson.id), code=303)


def _answer(lesson, role, error=None, status=200):
    """htmx gets the panel again; a plain form goes back to the call screen."""
    if request.headers.get("HX-Request"):
        return _panel(lesson, role, error), status
    if error:
        flash(str(error), "error")
    return _back(lesson)


def _panel(lesson, role, error=None):
    people = actions.present(lesson)
    me = next((p for p in people if p.user_id == current_user.id), None)
    return render_template(
        "lessons/_panel.html", lesson=lesson, people=people, hands=actions.hand_queue(people), me=me,
        runs=access.is_host_or_admin(current_user, lesson, role), error=error,
    )


# Starting ----------------------------------------------------------------------------------


@bp.route("/chats/<int:chat_id>/call", methods=["GET", "POST"])
@login_required
def start_in_chat(chat_id):
    """The camera icon of a chat: pick people or «Позвонить всем», then the call screen."""
    chat, _member = access_chat(current_user, chat_id)
    if not access.can_start(current_user, chat):
        abort(403)
    running = actions.running_in([chat.id]).get(chat.id)
    if running is not None:
        return redirect(url_for("lessons.call", lesson_id=running.id), code=303)
    error = None
    if request.method == "POST":
        try:
            kind = actions.check_kind(request.form.get("kind", Lesson.LESSON))
            picked = [] if request.form.get("everyone") else request.form.getlist("invite")
            if not picked and not request.form.get("everyone"):
                raise LessonError(_("Pick the people to call, or call everyone."))
            invited = actions.check_invited(chat, current_user, picked)
        except LessonError as refusal:
            error = refusal.message
        else:
            lesson, _started = actions.do_start(current_user, chat, kind, invited)
            return redirect(url_for("lessons.call", lesson_id=lesson.id), code=303)
    people = [p for p in chat_actions.chat_people(chat) if p.id != current_user.id]
    return render_template(
        "lessons/start.html", chat=chat, title=chat_actions.chat_title(chat, current_user), people=people,
        kinds=_kinds(), error=error,
    ), 400 if error else 200


@bp.route("/lessons/new", methods=["GET", "POST"])
@login_required
def new():
    """«Начать урок» on the home page: pick the class (its chat is the lesson's call chat)."""
    chats = startable_chats(current_user)
    error = None
    if request.method == "POST":
        chosen = next((c for c in chats if str(c.id) == request.form.get("chat")), None)
        try:
            if chosen is None:
                raise LessonError(_("Pick a class or a group to call."))
            kind = actions.check_kind(request.form.get("kind", Lesson.LESSON))
        except LessonError as refusal:
            error = refusal.message
        else:
            lesson, _started = actions.do_start(
                current_user, chosen, kind, actions.check_invited(chosen, current_user, [])
            )
            return redirect(url_for("lessons.call", lesson_id=lesson.id), code=303)
    if not chats and not is_staff_anywhere(current_user):
        abort(403)
    return render_template("lessons/new.html", chats=chats, kinds=_kinds(), error=error), 400 if error else 200


def startable_chats(user):
    """The class and group chats ``user`` may call, class chats first."""
    chats = (
        Chat.select().join(ChatMember)
        .where((ChatMember.user == user.id) & Chat.kind.in_([Chat.CLASS, Chat.GROUP]))
        .order_by(Chat.kind, Chat.name)
    )
    return [c for c in chats if access.can_start(user, c)]


def is_staff_anywhere(user):
    return Membership.select().where(
        (Membership.user == user.id) & Membership.role.in_([Membership.ADMIN, Membership.TEACHER])
    ).exists()


def _kinds():
    return [
        (Lesson.LESSON, _("Lesson")),
        (Lesson.BROADCAST, _("Broadcast: parents may watch")),
        (Lesson.PARENT_MEETING, _("Parent meeting")),
    ]


# The call screen ---------------------------------------------------------------------------


@bp.route("/lessons/<int:lesson_id>")
@login_required
def call(lesson_id):
    lesson, role = access.access_lesson(current_user, lesson_id)
    if not lesson.is_running:
        return render_template("lessons/ended.html", lesson=lesson, chat=lesson.chat), 410
    actions.do_read_invitations(current_user, lesson)
    return render_template(
        "lessons/call.html", lesson=lesson, role=role, chat=lesson.chat,
        title=chat_actions.chat_title(lesson.chat, current_user),
        runs=access.is_host_or_admin(current_user, lesson, role),
        staff=is_staff(current_user, lesson.school),
        # A parent listening to a broadcast is not a member of the class chat.
        chat_open=find_chat(current_user, lesson.chat_id) is not None,
    )


@bp.route("/lessons/invitation")
@login_required
def invitation():
    """The bar «… invites you to a video lesson» on pages without a socket (base.html asks)."""
    return render_template("lessons/_invitation.html", pending=actions.pending_invitation(current_user))


@bp.route("/lessons/<int:lesson_id>/invitation/dismiss", methods=["POST"])
@login_required
def dismiss_invitation(lesson_id):
    lesson = Lesson.get_or_none(Lesson.id == lesson_id)
    if lesson is None:
        abort(404)
    actions.do_read_invitations(current_user, lesson)  # only ever this person's own notices
    if request.headers.get("HX-Request"):
        return ""
    return redirect(url_for("home.index"), code=303)


@bp.route("/lessons/<int:lesson_id>/panel")
@login_required
def panel(lesson_id):
    lesson, role = access.access_lesson(current_user, lesson_id)
    if not lesson.is_running:
        return render_template("lessons/_ended.html", lesson=lesson), 410
    return _panel(lesson, role)


@bp.route("/lessons/<int:lesson_id>/leave", methods=["POST"])
@login_required
def leave(lesson_id):
    lesson, _role = access.access_lesson(current_user, lesson_id)
    actions.do_leave(current_user, lesson)
    return redirect(url_for("chats.chat", chat_id=lesson.chat_id), code=303)


@bp.route("/lessons/<int:lesson_id>/hand", methods=["POST"])
@login_required
def hand(lesson_id):
    lesson, role = _running(lesson_id)
    try:
        actions.do_hand(current_user, lesson, request.form.get("raised") == "1")
    except LessonError as refusal:
        return _answer(lesson, role, refusal.message, refusal.status)
    return _answer(lesson, role)


@bp.route("/lessons/<int:lesson_id>/invite", methods=["GET", "POST"])
@login_required
def invite(lesson_id):
    """Invite more people: members of the call chat who are not in the lesson."""
    lesson, role = _running(lesson_id)
    if role == access.LISTENER:
        abort(403)
    here = {p.user_id for p in actions.present(lesson)}
    people = [p for p in chat_actions.chat_people(lesson.chat) if p.id not in here]
    error = None
    if request.method == "POST":
        try:
            picked = request.form.getlist("invite")
            if not picked:
                raise LessonError(_("Pick the people to call, or call everyone."))
            invited = actions.check_invited(lesson.chat, current_user, picked) - here
        except LessonError as refusal:
            error = refusal.message
        else:
            actions.do_invite(current_user, lesson, invited)
            flash(_("Invitations sent."))
            return _back(lesson)
    return render_template("lessons/invite.html", lesson=lesson, people=people, error=error), 400 if error else 200


def _running(lesson_id):
    lesson, role = access.access_lesson(current_user, lesson_id)
    if not lesson.is_running:
        abort(410)
    return lesson, role


# The host's panel --------------------------------------------------------------------------


def _host(lesson_id):
    lesson, role = _running(lesson_id)
    if not access.is_host_or_admin(current_user, lesson, role):
        abort(403)
    return lesson, role


@bp.route("/lessons/<int:lesson_id>/end", methods=["POST"])
@login_required
def end(lesson_id):
    lesson, _role = _host(lesson_id)
    actions.do_end(lesson)
    after = url_for("chats.chat", chat_id=lesson.chat_id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": after}
    return redirect(after, code=303)


@bp.route("/lessons/<int:lesson_id>/mute-all", methods=["POST"])
@login_required
def mute_all(lesson_id):
    lesson, role = _host(lesson_id)
    actions.do_mute_all(lesson)
    return _answer(lesson, role)


@bp.route("/lessons/<int:lesson_id>/lower-hands", methods=["POST"])
@login_required
def lower_hands(lesson_id):
    lesson, role = _host(lesson_id)
    actions.do_lower_hand(lesson)
    return _answer(lesson, role)


@bp.route("/lessons/<int:lesson_id>/people/<int:user_id>/lower-hand", methods=["POST"])
@login_required
def lower_hand(lesson_id, user_id):
    lesson, role = _host(lesson_id)
    try:
        actions.participant_of(lesson, user_id)
    except LessonError as refusal:
        return _answer(lesson, role, refusal.message, refusal.status)
    actions.do_lower_hand(lesson, user_id)
    return _answer(lesson, role)


@bp.route("/lessons/<int:lesson_id>/people/<int:user_id>/remove", methods=["POST"])
@login_required
def remove(lesson_id, user_id):
    lesson, role = _host(lesson_id)
    try:
        actions.do_remove(current_user, lesson, user_id)
    except LessonError as refusal:
        return _answer(lesson, role, refusal.message, refusal.status)
    return _answer(lesson, role)


@bp.route("/lessons/<int:lesson_id>/settings", methods=["POST"])
@login_required
def settings(lesson_id):
    lesson, role = _host(lesson_id)
    actions.do_settings(lesson, request.form.get("mics_allowed") == "1", request.form.get("cameras_allowed") == "1")
    return _answer(lesson, role)


@bp.app_template_global("running_lessons")
def running_lessons_global(chat_ids):
    return actions.running_in(chat_ids)


@bp.app_template_global("lesson_invitation")
def lesson_invitation():
    """For base.html: what the invitation bar shows when the page is drawn."""
    return actions.pending_invitation(current_user)


@bp.app_template_global("chat_lesson")
def chat_lesson(chat):
    """For a chat's header: ``(running lesson or None, whether the viewer may start one)``."""
    return actions.running_in([chat.id]).get(chat.id), access.can_start(current_user, chat)

