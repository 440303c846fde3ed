"""Polls in chats (SPEC §6): «+» → «Опрос» makes one, members vote, results update live.

A poll is a message of kind ``poll`` with a Poll row, its options and votes. Every rule
(closed polls, one answer or several, no changing a vote where withdrawal is not allowed)
is enforced here, on the server; the page only offers what the rules allow.
"""
import uuid
from collections import defaultdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from peewee import IntegrityError
from wtforms import BooleanField, DateTimeLocalField, FieldList, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from blueprints.chats import access, actions
from blueprints.chats.actions import ChatError
from blueprints.chats.routes import bp
from db import database
from db.models import ChatMember, Message, Poll, PollOption, PollVote, User, utcnow

QUESTION_MAX = 300
OPTION_MAX = 200
OPTIONS_MIN, OPTIONS_MAX = 2, 10
OPTIONS_SHOWN = 4  # the rest of the answer fields wait under «Ещё варианты»

# Light backgrounds on which the page's dark text keeps a contrast above 7:1. Only these
# keys are stored; the colours themselves live in static/css/chat-polls.css.
BACKGROUNDS = (
    SelectChoice("blue", _l("Blue")),
    SelectChoice("green", _l("Green")),
    SelectChoice("yellow", _l("Yellow")),
    SelectChoice("orange", _l("Orange")),
    SelectChoice("pink", _l("Pink")),
    SelectChoice("lilac", _l("Lilac")),
)
DEFAULT_BACKGROUND = "blue"


class PollForm(FlaskForm):
    question = StringField(
        _l("Poll question"),
        validators=[
            DataRequired(message=_l("Write the poll question.")),
            Length(max=QUESTION_MAX, message=_l("The question is at most %(max)d characters.")),
        ],
    )
    options = FieldList(
        StringField(validators=[
            Length(max=OPTION_MAX, message=_l("An answer is at most %(max)d characters.")),
        ]),
        min_entries=OPTIONS_MAX,
        max_entries=OPTIONS_MAX,
    )
    background = RadioField(
        _l("Background"), choices=BACKGROUNDS, default=DEFAULT_BACKGROUND, validate_choice=False,
    )  # checked by do_create_poll, with a message of ours
    anonymous = BooleanField(_l("Anonymous poll: nobody sees who voted for what"))
    multiple = BooleanField(_l("Several answers may be chosen"))
    retractable = BooleanField(_l("A vote may be withdrawn or changed"), default=True)
    ends_at = DateTimeLocalField(_l("Voting ends at"), validators=[Optional()])
    client_id = HiddenField()


# Reading -----------------------------------------------------------------------------------


def load_results(polls, viewer=None):
    """Give each poll ``choices`` (its options, each with ``count``, ``percent`` and, unless
    the poll is anonymous, ``voters``) and ``voters`` (how many people voted); with
    ``viewer``, also ``viewer_votes``. Two queries for any number of polls."""
    polls = [p for p in polls if p is not None]
    if not polls:
        return
    by_id = {p.id: p for p in polls}
    options = defaultdict(list)
    for option in (
        PollOption.select()
        .where(PollOption.poll.in_(list(by_id)))
        .order_by(PollOption.position, PollOption.id)
    ):
        option.count, option.voters = 0, []
        options[option.poll_id].append(option)
    votes = (
        PollVote.select(PollVote.poll, PollVote.option, User.id, User.first_name, User.last_name)
        .join(User)
        .where(PollVote.poll.in_(list(by_id)))
        .order_by(PollVote.id)
    )
    people, mine = defaultdict(set), defaultdict(set)
    found = {(o.poll_id, o.id): o for opts in options.values() for o in opts}
    for vote in votes:
        option = found.get((vote.poll_id, vote.option_id))
        if option is None:
            continue
        option.count += 1
        people[vote.poll_id].add(vote.user_id)
        if not by_id[vote.poll_id].anonymous:
            option.voters.append(vote.user.short_name)
        if viewer is not None and vote.user_id == viewer.id:
            mine[vote.poll_id].add(vote.option_id)
    for poll in polls:
        poll.closed = is_closed(poll)
        poll.choices = options[poll.id]
        poll.voters = len(people[poll.id])
        for option in poll.choices:
            option.percent = round(100 * option.count / poll.voters) if poll.voters else 0
        if viewer is not None:
            poll.viewer_votes = mine[poll.id]


def with_viewer_votes(messages, user):
    """Prepare the polls among ``messages`` (``message.poll``, set by ``actions.with_extras``)
    for ``user``'s page: results and the options ``user`` voted for, in two queries."""
    load_results([getattr(m, "poll", None) for m in messages], viewer=user)
    return messages


@bp.app_template_filter("with_poll_results")
def with_poll_results(poll):
    """A poll with its results, loading them if the caller did not (a pushed new message)."""
    if not hasattr(poll, "choices"):
        load_results([poll])
    return poll


def is_closed(poll):
    return poll.ends_at is not None and poll.ends_at <= utcnow()


def find_poll(chat, poll_id):
    """The poll ``poll_id`` of a message of ``chat`` that is not deleted; 404 otherwise."""
    poll = (
        Poll.select(Poll, Message)
        .join(Message)
        .where((Poll.id == poll_id) & (Message.chat == chat.id) & Message.deleted_at.is_null())
        .first()
    )
    if poll is None:
        abort(404)
    poll.message.poll = poll
    return poll


# Making a poll ---------------------------------------------------------------------------


def check_options(texts):
    """The answers typed, blank ones dropped: 2 to 10 of them, no two alike."""
    options = [t.strip() for t in texts if t and t.strip()]
    if len(options) < OPTIONS_MIN:
        raise ChatError(_l("Give at least two answers."))
    if len(options) > OPTIONS_MAX:
        raise ChatError(_l("A poll has at most %(n)d answers.", n=OPTIONS_MAX))
    if any(len(t) > OPTION_MAX for t in options):
        raise ChatError(_l("An answer is at most %(max)d characters.", max=OPTION_MAX))
    if len({t.casefold() for t in options}) != len(options):
        raise ChatError(_l("The answers must differ from each other."))
    return options


def check_question(question):
    question = " ".join((question or "").split())
    if not question:
        raise ChatError(_l("Write the poll question."))
    if len(question) > QUESTION_MAX:
        raise ChatError(_l("The question is at most %(max)d characters.", max=QUESTION_MAX))
    return question


def check_ends_at(local_time):
    """A local time (the app's time zone, Moscow) in the future, as naive UTC; or None."""
    if local_time is None:
        return None
    ends_at = to_utc(local_time.replace(tzinfo=None))
    if ends_at <= utcnow():
        raise ChatError(_l("The end of voting must be in the future."))
    return ends_at


def do_create_poll(user, chat, client_id, question, options, background=DEFAULT_BACKGROUND,
                   anonymous=False, multiple=False, retractable=True, ends_at=None):
    """Send a poll message; resending the same ``client_id`` returns the poll already made.

    ``ends_at`` is naive UTC. Returns ``(message, created)``.
    """
    question = check_question(question)
    options = check_options(options)
    if background not in {choice.value for choice in BACKGROUNDS}:
        raise ChatError(_l("Pick a background from the list."))

    def write_poll(message):
        poll = Poll.create(
            message=message.id, question=question, background=background, anonymous=bool(anonymous),
            multiple=bool(multiple), retractable=bool(retractable), ends_at=ends_at,
        )
        PollOption.insert_many(
            [{"poll": poll.id, "text": text, "position": i} for i, text in enumerate(options)]
        ).execute()

    return actions.do_send_message(user, chat, client_id, question, kind=Message.POLL, extras=write_poll)


# Voting ------------------------------------------------------------------------------------


def check_open(poll):
    if is_closed(poll):
        raise ChatError(_l("Voting in this poll is over."))


def check_choice(poll, option_ids):
    """The chosen option ids: one for a single-choice poll, at least one otherwise, all of
    this poll."""
    check_open(poll)
    if any(not str(i).isdigit() for i in option_ids):
        raise ChatError(_l("Pick answers from the list."))
    chosen = {int(i) for i in option_ids}
    if not chosen:
        raise ChatError(_l("Pick an answer."))
    if not poll.multiple and len(chosen) != 1:
        raise ChatError(_l("Pick one answer."))
    own = {o.id for o in PollOption.select(PollOption.id).where(PollOption.poll == poll.id)}
    if not chosen <= own:
        raise ChatError(_l("Pick answers from the list."))
    return chosen


def _lock_voter(user, chat):
    """Serialise one person's votes in a chat: a no-op UPDATE of their membership row takes
    its row lock (PostgreSQL) or the write lock (SQLite) before anything is read, so two
    votes sent at once run one after the other and the second sees the first."""
    locked = (
        ChatMember.update(last_read_id=ChatMember.last_read_id)
        .where((ChatMember.chat == chat.id) & (ChatMember.user == user.id))
        .execute()
    )
    if not locked:
        raise ChatError(_l("You are no longer a member of this chat."))


def _votes_of(user, poll):
    return {v.option_id for v in PollVote.select(PollVote.option).where(
        (PollVote.poll == poll.id) & (PollVote.user == user.id)
    )}


def record_vote(user, poll, option_ids, lock_voter):
    """Vote, or change one's vote where the poll allows it: the rules of every poll, in a chat
    or in an article. ``lock_voter()`` serialises one person's votes (see ``_lock_voter``);
    it runs first in the transaction. Returns whether the votes changed."""
    chosen = check_choice(poll, option_ids)
    try:
        with database.atomic():
            lock_voter()
            previous = _votes_of(user, poll)
            if previous == chosen:
                return False
            if previous and not poll.retractable:
                raise ChatError(_l("You have already voted, and in this poll a vote cannot be changed."))
            PollVote.delete().where((PollVote.poll == poll.id) & (PollVote.user == user.id)).execute()
            PollVote.insert_many(
                [{"poll": poll.id, "option": option_id, "user": user.id} for option_id in sorted(chosen)]
            ).execute()
    except IntegrityError:  # the poll was deleted meanwhile
        raise ChatError(_l("The poll was deleted.")) from None
    return True


def withdraw_vote(user, poll, lock_voter):
    """Withdraw one's vote where the poll allows it; returns whether there was one."""
    check_open(poll)
    if not poll.retractable:
        raise ChatError(_l("In this poll a vote cannot be withdrawn."))
    with database.atomic():
        lock_voter()
        withdrawn = PollVote.delete().where(
            (PollVote.poll == poll.id) & (PollVote.user == user.id)
        ).execute()
    return bool(withdrawn)


def do_vote(user, chat, poll, option_ids):
    """Vote, or change one's vote where the poll allows it; push the new results."""
    if record_vote(user, poll, option_ids, lambda: _lock_voter(user, chat)):
        push_results(chat, poll)


def do_retract(user, chat, poll):
    """Withdraw one's vote where the poll allows it; push the new results."""
    if withdraw_vote(user, poll, lambda: _lock_voter(user, chat)):
        push_results(chat, poll)


def push_results(chat, poll):
    """Everyone in the chat gets the new counts (never anybody's own choice)."""
    fresh = Poll.get_by_id(poll.id)
    load_results([fresh])
    actions.emit_rendered(chat.id, "chat:poll", "chats/_poll_results.html", {"poll": fresh}, poll_id=poll.id)


# HTTP ----------------------------------------------------------------------------------------


@bp.route("/chats/<int:chat_id>/polls/new", methods=["GET", "POST"])
@login_required
def new_poll(chat_id):
    chat, _member = access.access_chat(current_user, chat_id)
    form = PollForm()
    error = None
    if request.method == "GET":
        if not access.can_write(current_user, chat):
            abort(403)
        form.client_id.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        try:
            message, _created = do_create_poll(
                current_user, chat, form.client_id.data, form.question.data,
                [entry.data for entry in form.options], background=form.background.data,
                anonymous=form.anonymous.data, multiple=form.multiple.data,
                retractable=form.retractable.data, ends_at=check_ends_at(form.ends_at.data),
            )
        except ChatError as exc:
            error = exc.message
        else:
            return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{message.id}"), 303)
    filled = [i for i, entry in enumerate(form.options) if entry.data or entry.errors]
    return render_template(
        "chats/poll_new.html", chat=chat, form=form, error=error,
        title=actions.chat_title(chat, current_user),
        shown=max(OPTIONS_SHOWN, (filled[-1] + 1) if filled else 0),
    ), (200 if request.method == "GET" else 400)


def _answer(chat, poll, error=None):
    """The voter's own view of the poll for htmx, or back to the chat for a plain form."""
    if request.headers.get("HX-Target") == f"poll-{poll.id}":
        with_viewer_votes([poll.message], current_user)
        html = render_template("chats/_poll.html", message=poll.message, error=error)
        return html, (400 if error else 200), {"Vary": "HX-Request"}
    if error:
        flash(str(error), "error")
    return redirect(url_for("chats.chat", chat_id=chat.id, _anchor=f"m{poll.message_id}"), 303)


@bp.route("/chats/<int:chat_id>/polls/<int:poll_id>/vote", methods=["POST"])
@login_required
def poll_vote(chat_id, poll_id):
    chat, _member = access.access_chat(current_user, chat_id)
    poll = find_poll(chat, poll_id)
    try:
        do_vote(current_user, chat, poll, request.form.getlist("option"))
    except ChatError as exc:
        return _answer(chat, poll, exc.message)
    return _answer(chat, poll)


@bp.route("/chats/<int:chat_id>/polls/<int:poll_id>/retract", methods=["POST"])
@login_required
def poll_retract(chat_id, poll_id):
    chat, _member = access.access_chat(current_user, chat_id)
    poll = find_poll(chat, poll_id)
    try:
        do_retract(current_user, chat, poll)
    except ChatError as exc:
        return _answer(chat, poll, exc.message)
    return _answer(chat, poll)
