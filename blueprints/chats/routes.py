"""Chats over HTTP: the list, a chat page, sending as a plain form, editing, moderation.

Every page works without JavaScript; static/js/chat.js adds live delivery (Socket.IO),
the offline outbox and gap filling on top of the same forms.
"""
import re
import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from blueprints.chats import access, actions
from blueprints.chats.actions import ChatError
from blueprints.pagination import after_id, keyset_page, render_list
from blueprints.schools.access import access_school, access_school_admin, roles_in
from db.models import Chat, Membership, Message, MessageReport, SchoolClass, User

bp = Blueprint("chats", __name__)

URL = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


@bp.app_template_filter("linkify")
def linkify(text):
    """Escape everything, then make http(s) links clickable."""
    out, last = [], 0
    text = text or ""
    for match in URL.finditer(text):
        out.append(escape(text[last:match.start()]))
        url = match.group(0)
        out.append(Markup('<a href="{0}" rel="noopener nofollow ugc" target="_blank">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.app_template_global("message_labels")
def message_labels():
    """The words every message repeats, translated once per page (and language) instead of
    once per message: a chat page draws fifty messages."""
    locale = str(get_locale())
    cache = g.setdefault("message_labels", {})
    if locale not in cache:
        cache[locale] = {
            "deleted_account": _("Deleted account"),
            "announcement": _("Announcement"),
            "edited": _("edited"),
            "deleted": _("The message was deleted."),
            "reply": _("Reply"),
            "edit": _("Edit"),
            "confirm_delete": _("Delete the message for everybody?"),
            "delete": _("Delete"),
            "report": _("Report"),
            "report_reason": _("What is wrong with it? (optional)"),
            "report_send": _("Report to the school's administrators"),
        }
    return cache[locale]


def _new_client_id():
    return uuid.uuid4().hex


def _int_arg(name, source=None):
    value = (source or request.args).get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/chats")
@login_required
def index():
    kind = request.args.get("kind", "")
    if kind not in (Chat.CLASS, Chat.GROUP, Chat.PERSONAL):
        kind = ""
    chats = actions.chats_of(current_user, kind, after_id(), actions.CHATS_PAGE_SIZE)
    joined = actions.chat_ids_of(current_user)
    open_chats = [
        chat
        for school in current_user.schools()
        for chat in Chat.public_in(school)
        if chat.id not in joined and access.can_join(current_user, chat)
    ]
    schools = [s for s in current_user.schools() if access.can_create_group_chat(current_user, s)]
    return render_list(
        "chats/index.html", "chats/_chat_page.html", "chats",
        chats=chats, open_chats=open_chats, schools=schools, kind=kind,
    )


def _chat_page(chat, member, error=None, draft="", status=200):
    before = _int_arg("before")
    messages, has_older = actions.page_of_messages(chat, before)
    first_unread = next(
        (m.id for m in messages if m.id > member.last_read_id and m.author_id != current_user.id),
        None,
    )
    if before is None and chat.last_message_id > member.last_read_id:
        actions.do_mark_read(current_user, chat, member, chat.last_message_id)
    from blueprints.chats import polls

    polls.with_viewer_votes(messages, current_user)
    reply_to = None
    reply_id = _int_arg("reply") or _int_arg("reply_to", request.form)
    if reply_id:
        reply_to = Message.get_or_none((Message.id == reply_id) & (Message.chat == chat))
    response = render_template(
        "chats/chat.html",
        chat=chat,
        title=actions.chat_title(chat, current_user),
        messages=messages,
        has_older=has_older,
        before=before,
        first_unread=first_unread,
        viewer_id=current_user.id,
        can_write=access.can_write(current_user, chat),
        can_moderate=access.can_moderate(current_user, chat),
        can_announce=access.can_announce(current_user, chat),
        members=actions.member_count(chat),
        client_id=_new_client_id(),
        reply_to=reply_to,
        error=error,
        draft=draft,
    )
    return response, status


@bp.route("/chats/<int:chat_id>")
@login_required
def chat(chat_id):
    chat, member = access.access_chat(current_user, chat_id)
    return _chat_page(chat, member)


@bp.route("/chats/<int:chat_id>/messages", methods=["POST"])
@login_required
def send(chat_id):
    from blueprints.chats import files

    chat, member = access.access_chat(current_user, chat_id)
    form = request.form
    kind = Message.ANNOUNCEMENT if form.get("announcement") else Message.TEXT
    uploads = []
    try:
        uploads = files.check_uploads(request.files.getlist("files"))
        message, created = actions.do_send_message(
            current_user, chat, form.get("client_id"), form.get("body"),
            reply_to_id=_int_arg("reply_to", form), kind=kind,
            extras=(lambda m: files.do_attach(m, uploads)) if uploads else None,
            allow_empty=bool(uploads),
        )
        if not created:  # a resend: the first request's files are the ones kept
            files.discard(uploads)
    except ChatError as error:
        files.discard(uploads)
        if request.headers.get("HX-Target") == "message-form":
            return render_template("chats/_error.html", error=error.message), 422
        return _chat_page(chat, member, error=error.message, draft=form.get("body", ""), status=400)
    except Exception:
        files.discard(uploads)
        raise
    if request.headers.get("HX-Target") == "message-form":
        return render_template("chats/_error.html", error=None)
    return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{message.id}"), 303)


@bp.route("/chats/<int:chat_id>/since/<int:after>")
@login_required
def since(chat_id, after):
    """What a client missed since message ``after``: the HTTP twin of the socket's gap fill."""
    chat, _member = access.access_chat(current_user, chat_id)
    missed, more = actions.messages_after(chat, after)
    polls.with_viewer_votes(missed, current_user)
    response = render_template("chats/_messages.html", messages=missed, viewer_id=current_user.id)
    headers = {"X-Reload": "1"} if more else {}
    return response, 200, headers


@bp.route("/chats/<int:chat_id>/messages/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit(chat_id, message_id):
    chat, _member, message = access.access_message(current_user, chat_id, message_id)
    if not access.can_edit(current_user, message) or message.is_deleted:
        abort(403)
    error = None
    if request.method == "POST":
        try:
            actions.do_edit_message(current_user, chat, message, request.form.get("body"))
        except ChatError as exc:
            error = exc.message
        else:
            return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{message.id}"), 303)
    body = request.form.get("body", message.body) if request.method == "POST" else message.body
    return render_template(
        "chats/edit.html", chat=chat, message=message, body=body, error=error,
        title=actions.chat_title(chat, current_user),
    ), (400 if error else 200)


@bp.route("/chats/<int:chat_id>/messages/<int:message_id>/delete", methods=["POST"])
@login_required
def delete(chat_id, message_id):
    chat, _member, message = access.access_message(current_user, chat_id, message_id)
    if not access.can_delete(current_user, chat, message):
        abort(403)
    actions.do_delete_message(current_user, chat, message)
    return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{message.id}"), 303)


@bp.route("/chats/<int:chat_id>/messages/<int:message_id>/report", methods=["POST"])
@login_required
def report(chat_id, message_id):
    chat, _member, message = access.access_message(current_user, chat_id, message_id)
    try:
        actions.do_report(current_user, chat, message, request.form.get("reason"))
    except ChatError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Thank you: the school's administrators will look at the message."), "success")
    return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{message.id}"), 303)


@bp.route("/chats/<int:chat_id>/settings", methods=["POST"])
@login_required
def settings(chat_id):
    chat, _member = access.access_chat(current_user, chat_id)
    if not access.can_moderate(current_user, chat):
        abort(403)
    actions.do_set_teachers_only(current_user, chat, request.form.get("teachers_only") == "1")
    flash(
        _("Now only teachers and administrators write here.") if chat.teachers_only
        else _("Now every member writes here."),
        "success",
    )
    return redirect(url_for("chats.people", chat_id=chat.id), 303)


@bp.route("/chats/<int:chat_id>/people")
@login_required
def people(chat_id):
    chat, _member = access.access_chat(current_user, chat_id)
    return render_template(
        "chats/people.html", chat=chat, people=actions.chat_people(chat),
        title=actions.chat_title(chat, current_user),
        can_moderate=access.can_moderate(current_user, chat),
    )


@bp.route("/chats/<int:chat_id>/join", methods=["POST"])
@login_required
def join(chat_id):
    chat = Chat.get_or_none(Chat.id == chat_id)
    if chat is None or not access.can_join(current_user, chat):
        abort(404)
    actions.do_join(current_user, chat)
    return redirect(url_for("chats.chat", chat_id=chat.id), 303)


@bp.route("/chats/<int:chat_id>/leave", methods=["POST"])
@login_required
def leave(chat_id):
    chat, _member = access.access_chat(current_user, chat_id)
    actions.do_leave(current_user, chat)
    flash(_("You have left the chat."), "success")
    return redirect(url_for("chats.index"), 303)


def _pickable_people(school, school_class):
    """Who may be put in a new chat: the class's students, or everybody in the school."""
    query = User.select(User, Membership).join(Membership).where(Membership.school == school)
    if school_class is not None:
        query = query.where(
            (Membership.school_class == school_class) & (Membership.role == Membership.STUDENT)
        )
    seen, people = set(), []
    for user in query.order_by(User.last_name, User.first_name):
        if user.id not in seen and user.id != current_user.id:
            seen.add(user.id)
            people.append(user)
    return people


@bp.route("/chats/new", methods=["GET", "POST"])
@login_required
def new():
    """«Создать чат»: a class chat from a class page, or a group chat of a school."""
    source = request.form if request.method == "POST" else request.args
    school_class = None
    class_id = _int_arg("class", source)
    if class_id:
        school_class = access.access_school_class(current_user, class_id)
        school = school_class.school
        if not access.can_create_class_chat(current_user, school_class):
            abort(403)
    else:
        school = access_school(current_user, _int_arg("school", source) or 0)
        if not access.can_create_group_chat(current_user, school):
            abort(403)
    people = _pickable_people(school, school_class)
    error = None
    picked = set(request.form.getlist("members"))
    if request.method == "POST":
        every = request.form.get("everyone") == "1"
        member_ids = [p.id for p in people] if every else request.form.getlist("members")
        try:
            chat = actions.do_create_chat(
                current_user, school, request.form.get("name"), actions.check_members(school, member_ids),
                kind=Chat.CLASS if school_class else Chat.GROUP, school_class=school_class,
                is_public=request.form.get("is_public") == "1",
                teachers_only=request.form.get("teachers_only") == "1",
            )
        except ChatError as exc:
            error = exc.message
        else:
            return redirect(url_for("chats.chat", chat_id=chat.id), 303)
    default_name = f"{school_class.name} — " if school_class else ""
    return render_template(
        "chats/new.html", school=school, school_class=school_class, people=people,
        picked=picked, error=error, name=request.form.get("name", default_name),
    ), (400 if error else 200)


@bp.route("/chats/personal", methods=["POST"])
@login_required
def personal():
    """«Написать»: open (or make) the personal chat with a person of the same school."""
    school = access_school(current_user, _int_arg("school", request.form) or 0)
    other = User.get_or_none(User.id == (_int_arg("user", request.form) or 0))
    if other is None or not roles_in(other, school):
        abort(404)
    try:
        chat = actions.do_open_personal_chat(current_user, other, school)
    except ChatError:
        abort(403)
    return redirect(url_for("chats.chat", chat_id=chat.id), 303)


@bp.route("/schools/<int:school_id>/chats")
@login_required
def public(school_id):
    """The school's public chats; members open them, others may join the ones open to them."""
    from blueprints.schools.routes import _side_menu_context

    school = access_school(current_user, school_id)
    chats = keyset_page(
        Chat.public_in(school), (Chat.last_message_id, Chat.id), Chat.id, after_id(),
        actions.CHATS_PAGE_SIZE, descending=True,
    )
    mine = actions.chat_ids_of(current_user, school)
    for chat in chats:
        chat.is_member = chat.id in mine
        chat.joinable = not chat.is_member and access.can_join(current_user, chat)
    return render_list(
        "chats/public.html", "chats/_public_page.html", "public-chats", chats=chats,
        can_create=access.can_create_group_chat(current_user, school),
        **_side_menu_context(school),
    )


@bp.route("/schools/<int:school_id>/reports", methods=["GET", "POST"])
@login_required
def reports(school_id):
    """Reported messages of a school, for its administrators: delete the message or dismiss."""
    from blueprints.schools.routes import _side_menu_context

    school = access_school_admin(current_user, school_id)
    if request.method == "POST":
        report = MessageReport.get_or_none(MessageReport.id == (_int_arg("report", request.form) or 0))
        if report is None or report.message.chat.school_id != school.id:
            abort(404)
        actions.do_resolve_report(current_user, report, delete=request.form.get("action") == "delete")
        flash(_("Done."), "success")
        return redirect(url_for("chats.reports", school_id=school.id), 303)
    return render_template(
        "chats/reports.html", reports=actions.open_reports(school), **_side_menu_context(school)
    )


from blueprints.chats import files, polls  # noqa: E402,F401  (their routes join bp)
