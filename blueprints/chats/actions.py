"""Every write in the chats area: ``check_*`` refuses bad input, ``do_*`` writes in one
transaction, and what members see live is emitted only after the commit.
"""
import re
from collections import defaultdict

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from peewee import JOIN, IntegrityError, fn

from blueprints.chats import access
from blueprints.extensions import LANGUAGES, socketio
from blueprints.pagination import keyset_page
from db import database
from db.models import (
    Attachment,
    Chat,
    ChatMember,
    Membership,
    Message,
    MessageReport,
    Poll,
    PollOption,
    PollVote,
    User,
    utcnow,
)

BODY_MAX = 4000
NAME_MAX = 128
GAP_FILL_MAX = 200  # a client missing more than this reloads the page instead
PAGE_SIZE = 50
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class ChatError(Exception):
    """Bad input: ``message`` is a lazy string shown to the person in their language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def chat_room(chat_id, locale):
    """Members join the room of their chat in their language: pushes are rendered once each."""
    return f"chat:{chat_id}:{locale}"


# Reading ----------------------------------------------------------------------------------


def with_extras(messages):
    """Load authors' replies, files and polls of ``messages`` in a few queries, not one each."""
    messages = list(messages)
    ids = [m.id for m in messages]
    if not ids:
        return messages
    files, polls = defaultdict(list), {}
    for attachment in Attachment.select().where(Attachment.message.in_(ids)).order_by(Attachment.id):
        files[attachment.message_id].append(attachment)
    for poll in Poll.select().where(Poll.message.in_(ids)):
        polls[poll.message_id] = poll
    reply_ids = {m.reply_to_id for m in messages if m.reply_to_id}
    replies = {}
    if reply_ids:
        Author = User.alias()
        query = (
            Message.select(Message, Author)
            .join(Author, JOIN.LEFT_OUTER, on=(Message.author == Author.id))
            .where(Message.id.in_(reply_ids))
        )
        replies = {m.id: m for m in query}
    for message in messages:
        message.files = files.get(message.id, [])
        message.poll = polls.get(message.id)
        message.quoted = replies.get(message.reply_to_id)
    announcements = [m for m in messages if m.kind == Message.ANNOUNCEMENT]
    if announcements:
        counts = read_counts(announcements[0].chat_id, announcements)
        for message in announcements:
            message.reads = counts[message.id]
    return messages


def _message_query():
    return Message.select(Message, User).join(User, JOIN.LEFT_OUTER, on=(Message.author == User.id))


def page_of_messages(chat, before=None, size=PAGE_SIZE):
    """The newest ``size`` messages (before id ``before``), oldest first, and whether older exist."""
    query = _message_query().where(Message.chat == chat)
    if before:
        query = query.where(Message.id < before)
    rows = list(query.order_by(Message.id.desc()).limit(size + 1))
    has_older = len(rows) > size
    return with_extras(reversed(rows[:size])), has_older


def messages_after(chat, after_id, limit=GAP_FILL_MAX):
    """What a reconnecting client missed: messages with an id above ``after_id``, in order."""
    query = (
        _message_query()
        .where((Message.chat == chat) & (Message.id > after_id))
        .order_by(Message.id)
        .limit(limit + 1)
    )
    rows = list(query)
    return with_extras(rows[:limit]), len(rows) > limit


def message_by_id(message_id):
    return with_extras(_message_query().where(Message.id == message_id))[0]


def read_counts(chat_id, messages):
    """«прочитали 18 из 25» for announcements: members (other than the author) who read it."""
    members = list(
        ChatMember.select(ChatMember.user, ChatMember.last_read_id).where(ChatMember.chat == chat_id)
    )
    counts = {}
    for message in messages:
        others = [m for m in members if m.user_id != message.author_id]
        read = sum(1 for m in others if m.last_read_id >= message.id)
        counts[message.id] = (read, len(others))
    return counts


def unread_counts(user):
    """``{chat_id: n}``: messages by others after the last one ``user`` read, in each chat."""
    query = (
        Message.select(Message.chat, fn.COUNT(Message.id).alias("n"))
        .join(ChatMember, on=(ChatMember.chat == Message.chat))
        .where(
            (ChatMember.user == user.id)
            & (Message.id > ChatMember.last_read_id)
            & ((Message.author != user.id) | Message.author.is_null())
            & Message.deleted_at.is_null()
        )
        .group_by(Message.chat)
    )
    return {row.chat_id: row.n for row in query}


def total_unread(user):
    return sum(unread_counts(user).values())


CHATS_PAGE_SIZE = 50


def chats_of(user, kind=None, after=None, size=None):
    """A person's chats (of ``kind``), the most recently active first, each with ``unread``,
    ``last`` and a title: all of them, or with ``size`` a page after the chat with id ``after``."""
    query = (
        Chat.select(Chat, ChatMember)
        .join(ChatMember, on=(ChatMember.chat == Chat.id))
        .where(ChatMember.user == user.id)
    )
    if kind:
        query = query.where(Chat.kind == kind)
    keys = (Chat.last_message_id, Chat.id)
    if size:
        chats = keyset_page(query, keys, Chat.id, after, size, descending=True)
    else:
        chats = list(query.order_by(*(key.desc() for key in keys)))
    unread = unread_counts(user)
    last_ids = [c.last_message_id for c in chats if c.last_message_id]
    last = {m.id: m for m in _message_query().where(Message.id.in_(last_ids))} if last_ids else {}
    partners = personal_partners(user, [c for c in chats if c.kind == Chat.PERSONAL])
    for chat in chats:
        chat.unread = unread.get(chat.id, 0)
        chat.last = last.get(chat.last_message_id)
        chat.title = title_of(chat, partners.get(chat.id))
    return chats


def personal_partners(user, chats):
    if not chats:
        return {}
    rows = (
        ChatMember.select(ChatMember, User)
        .join(User)
        .where(ChatMember.chat.in_([c.id for c in chats]) & (ChatMember.user != user.id))
    )
    return {row.chat_id: row.user for row in rows}


def title_of(chat, partner=None):
    if chat.kind == Chat.PERSONAL and partner is not None:
        return partner.full_name
    return chat.name


def chat_title(chat, user):
    if chat.kind != Chat.PERSONAL:
        return chat.name
    return title_of(chat, personal_partners(user, [chat]).get(chat.id))


def member_count(chat):
    return ChatMember.select().where(ChatMember.chat == chat).count()


def chat_people(chat):
    return list(
        User.select()
        .join(ChatMember)
        .where(ChatMember.chat == chat)
        .order_by(User.last_name, User.first_name)
    )


# Creating chats -------------------------------------------------------------------------


def check_chat_name(name):
    name = (name or "").strip()
    if not name:
        raise ChatError(_l("Give the chat a name."))
    if len(name) > NAME_MAX:
        raise ChatError(_l("A chat name is at most %(n)d characters.", n=NAME_MAX))
    return name


def check_members(school, user_ids):
    """People of ``school`` among ``user_ids`` (ids of outsiders are refused, not ignored)."""
    ids = {int(i) for i in user_ids if str(i).isdigit()}
    if len(ids) != len(set(user_ids)):
        raise ChatError(_l("Pick people from the list."))
    found = set(
        m.user_id
        for m in Membership.select(Membership.user).where(
            (Membership.school == school) & Membership.user.in_(ids)
        )
    )
    if found != ids:
        raise ChatError(_l("Pick people from the list."))
    return ids


def class_people(school_class, role):
    return {
        m.user_id
        for m in Membership.select(Membership.user).where(
            (Membership.school_class == school_class) & (Membership.role == role)
        )
    }


def do_create_chat(creator, school, name, member_ids, kind=Chat.GROUP, school_class=None,
                   is_public=False, teachers_only=False):
    name = check_chat_name(name)
    if kind == Chat.CLASS:
        students = class_people(school_class, Membership.STUDENT)
        if not set(member_ids) <= students:
            raise ChatError(_l("Pick students of this class."))
        is_public = True
    with database.atomic():
        chat = Chat.create(
            school=school, kind=kind, name=name, school_class=school_class, created_by=creator,
            is_public=is_public, teachers_only=teachers_only,
        )
        people = set(member_ids) | {creator.id}
        ChatMember.insert_many([{"chat": chat.id, "user": uid} for uid in sorted(people)]).execute()
    return chat


def do_open_personal_chat(user, other, school):
    """The one personal chat of two people, made on first use."""
    if not access.can_chat_personally(user, other, school):
        raise ChatError(_l("You cannot write to this person."))
    low, high = sorted((user.id, other.id))
    key = f"{low}:{high}"
    existing = Chat.get_or_none(Chat.personal_key == key)
    if existing:
        return existing
    try:
        with database.atomic():
            chat = Chat.create(school=school, kind=Chat.PERSONAL, created_by=user, personal_key=key)
            ChatMember.insert_many([{"chat": chat.id, "user": low}, {"chat": chat.id, "user": high}]).execute()
    except IntegrityError:  # both opened it at the same moment
        return Chat.get(Chat.personal_key == key)
    return chat


def do_join(user, chat):
    if not access.can_join(user, chat):
        raise ChatError(_l("This chat is not open to you."))
    with database.atomic():
        ChatMember.insert(chat=chat.id, user=user.id, last_read_id=chat.last_message_id).on_conflict_ignore().execute()


def do_leave(user, chat):
    with database.atomic():
        ChatMember.delete().where((ChatMember.chat == chat) & (ChatMember.user == user.id)).execute()


def do_set_teachers_only(user, chat, value):
    if not access.can_moderate(user, chat):
        raise ChatError(_l("Only the chat's creator and the school's administrators change this."))
    with database.atomic():
        Chat.update(teachers_only=bool(value)).where(Chat.id == chat.id).execute()
    chat.teachers_only = bool(value)


# Messages -----------------------------------------------------------------------------------


def check_client_id(client_id):
    if not CLIENT_ID.match(client_id or ""):
        raise ChatError(_l("The message could not be sent. Reload the page and try again."))
    return client_id


def check_body(body, allow_empty=False):
    body = (body or "").replace("\r\n", "\n").strip()
    if not body and not allow_empty:
        raise ChatError(_l("Write a message first."))
    if len(body) > BODY_MAX:
        raise ChatError(_l("A message is at most %(n)d characters.", n=BODY_MAX))
    return body


def check_can_write(user, chat):
    if not access.can_write(user, chat):
        raise ChatError(_l("Only teachers and administrators write in this chat."))


def check_reply_to(chat, reply_to_id):
    if not reply_to_id:
        return None
    reply = Message.get_or_none((Message.id == reply_to_id) & (Message.chat == chat))
    if reply is None or reply.is_deleted:
        raise ChatError(_l("The message you reply to is gone."))
    return reply


def do_send_message(user, chat, client_id, body, reply_to_id=None, kind=Message.TEXT,
                    extras=None, allow_empty=False):
    """Store a message once per ``client_id`` and push it to the chat after the commit.

    Returns ``(message, created)``. Resending the same ``client_id`` returns the message
    already stored and pushes nothing. ``extras(message)``, if given, writes what belongs to
    the message (files, a poll) inside the same transaction.
    """
    client_id = check_client_id(client_id)
    existing = Message.get_or_none((Message.author == user.id) & (Message.client_id == client_id))
    if existing is not None:
        if existing.chat_id != chat.id:
            raise ChatError(_l("The message could not be sent. Reload the page and try again."))
        return existing, False
    check_can_write(user, chat)
    body = check_body(body, allow_empty=allow_empty)
    if kind == Message.ANNOUNCEMENT and not access.can_announce(user, chat):
        raise ChatError(_l("Only teachers and administrators make announcements."))
    reply = check_reply_to(chat, reply_to_id)
    try:
        with database.atomic():
            message = Message.create(
                chat=chat.id, author=user.id, client_id=client_id, kind=kind, body=body, reply_to=reply,
            )
            if extras is not None:
                extras(message)
            Chat.update(last_message_id=message.id).where(
                (Chat.id == chat.id) & (Chat.last_message_id < message.id)
            ).execute()
            ChatMember.update(last_read_id=message.id).where(
                (ChatMember.chat == chat.id) & (ChatMember.user == user.id)
            ).execute()
    except IntegrityError:
        # The same client id arrived twice at once: the other request stored it.
        existing = Message.get_or_none((Message.author == user.id) & (Message.client_id == client_id))
        if existing is None:
            raise
        return existing, False
    if kind == Message.TEXT and extras is None:
        # A plain text message is pushed as it is in memory: no need to read it back.
        message.author, message.files, message.poll, message.quoted = user, [], None, reply
        push_rendered(message, "chat:message")
    else:
        push_message(message.id, "chat:message")
    return message, True


def do_edit_message(user, chat, message, body):
    if not access.can_edit(user, message) or message.is_deleted:
        raise ChatError(_l("You can edit only your own messages."))
    body = check_body(body, allow_empty=bool(Attachment.select().where(Attachment.message == message).exists()))
    with database.atomic():
        Message.update(body=body, edited_at=utcnow()).where(Message.id == message.id).execute()
    push_message(message.id, "chat:update")


def do_delete_message(user, chat, message):
    if not access.can_delete(user, chat, message):
        raise ChatError(_l("You cannot delete this message."))
    if message.is_deleted:
        return
    with database.atomic():
        Message.update(deleted_at=utcnow(), body="").where(Message.id == message.id).execute()
        files = list(Attachment.select().where(Attachment.message == message))
        Attachment.delete().where(Attachment.message == message).execute()
        Poll.delete().where(Poll.message == message).execute()
    from blueprints.chats import files as chat_files

    chat_files.remove_stored(files)
    push_message(message.id, "chat:update")


def do_report(user, chat, message, reason):
    """Report a message to the school's administrators, once per person and message."""
    from blueprints.notifications.actions import notify

    if message.author_id == user.id or message.is_deleted:
        raise ChatError(_l("You cannot report this message."))
    reason = (reason or "").strip()[:1000]
    reported = MessageReport.select().where(
        (MessageReport.message == message.id) & (MessageReport.reporter == user.id)
    )
    if reported.exists():
        return
    admins = User.select().join(Membership).where(
        (Membership.school == chat.school) & (Membership.role == Membership.ADMIN)
    ).distinct()
    try:
        with database.atomic():
            MessageReport.create(message=message.id, reporter=user.id, reason=reason)
            for admin in admins:
                notify(
                    admin, "message_report",
                    _l("A message in the chat «%(chat)s» was reported.", chat=chat.name or _l("personal chat")),
                    f"/schools/{chat.school_id}/reports",
                )
    except IntegrityError:  # the same person reported it twice at once: one report stands
        return


def do_mark_read(user, chat, member, up_to):
    """Move ``user``'s read mark forward (never back) and update announcements' read counts."""
    try:
        up_to = min(int(up_to), chat.last_message_id)
    except (TypeError, ValueError):
        return
    previous = member.last_read_id
    if up_to <= previous:
        return
    with database.atomic():
        ChatMember.update(last_read_id=up_to).where(
            (ChatMember.id == member.id) & (ChatMember.last_read_id < up_to)
        ).execute()
    member.last_read_id = up_to
    announcements = list(
        Message.select()
        .where(
            (Message.chat == chat.id)
            & (Message.kind == Message.ANNOUNCEMENT)
            & (Message.id > previous)
            & (Message.id <= up_to)
            & Message.deleted_at.is_null()
        )
    )
    if announcements:
        counts = read_counts(chat.id, announcements)
        for message in announcements:
            message.reads = counts[message.id]
            emit_rendered(chat.id, "chat:reads", "chats/_reads.html", {"message": message},
                          id=message.id)


# Pushing --------------------------------------------------------------------------------------


def emit_rendered(chat_id, event, template, context, **data):
    """Render ``template`` once per language and emit it to the chat's rooms."""
    if not has_request_context():  # a command or a job, not a request: URLs stay relative
        with current_app.test_request_context():
            return emit_rendered(chat_id, event, template, context, **data)
    # Forms in pushed HTML carry no CSRF token (it would be the sender's): chat.js puts in
    # each recipient's own.
    for locale in LANGUAGES:
        with force_locale(locale):
            html = render_template(template, csrf_token=_no_token, **context)
        socketio.emit(event, {"chat_id": chat_id, "html": html, **data}, to=chat_room(chat_id, locale))


def _no_token():
    return ""


def push_message(message_id, event):
    push_rendered(message_by_id(message_id), event)


def push_rendered(message, event):
    emit_rendered(
        message.chat_id, event, "chats/_message.html", {"message": message},
        id=message.id, client_id=message.client_id,
    )


# Reports --------------------------------------------------------------------------------------


def chat_ids_of(user, school=None):
    """Ids of the chats ``user`` is in (of ``school``, or everywhere)."""
    query = ChatMember.select(ChatMember.chat).join(Chat).where(ChatMember.user == user.id)
    if school is not None:
        query = query.where(Chat.school == school)
    return {row.chat_id for row in query}


def open_reports(school):
    """Unresolved reports of ``school``'s messages, the oldest first, with message and chat."""
    Reporter = User.alias()
    rows = list(
        MessageReport.select(MessageReport, Message, Chat, Reporter)
        .join(Message)
        .join(Chat)
        .switch(MessageReport)
        .join(Reporter, on=(MessageReport.reporter == Reporter.id))
        .where((Chat.school == school) & MessageReport.resolved_at.is_null())
        .order_by(MessageReport.id)
    )
    messages = {m.id: m for m in with_extras(
        _message_query().where(Message.id.in_([r.message_id for r in rows]))
    )} if rows else {}
    for row in rows:
        row.shown = messages[row.message_id]
    return rows


def do_resolve_report(admin, report, delete):
    message = report.message
    if delete:
        do_delete_message(admin, message.chat, message)
    with database.atomic():
        MessageReport.update(resolved_at=utcnow()).where(
            (MessageReport.message == message.id) & MessageReport.resolved_at.is_null()
        ).execute()


def open_reports_count(school):
    return (
        MessageReport.select()
        .join(Message)
        .join(Chat)
        .where((Chat.school == school) & MessageReport.resolved_at.is_null())
        .count()
    )


def class_chats_for(user, school_class):
    """A class's chats as its page lists them, each with ``is_member`` and ``joinable``."""
    chats = list(Chat.select().where(Chat.school_class == school_class).order_by(Chat.id))
    mine = chat_ids_of(user, school_class.school)
    for chat in chats:
        chat.is_member = chat.id in mine
        chat.joinable = not chat.is_member and access.can_join(user, chat)
    return chats
