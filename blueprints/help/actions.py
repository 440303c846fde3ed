"""Support questions: asking (with screenshots), replying, and telling the asker of an answer.

``check_*`` reads and checks input, ``do_*`` writes in one transaction; the notification or
email to the asker goes after the commit.
"""
import logging

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.auth.delivery import DeliveryError, send_email
from blueprints.chats import files
from blueprints.chats.actions import ChatError
from blueprints.notifications.actions import notify
from blueprints.pagination import keyset_page
from blueprints.schools.tokens import new_token, token_for
from db import database
from db.models import Feedback, SupportMessage, SupportQuestion, SupportScreenshot, utcnow

log = logging.getLogger("parta.help")

MAX_SCREENSHOTS = 5
MAX_SCREENSHOT_SIZE = 10 * files.MB
SUBJECT_MAX = 200
TEXT_MAX = 5000
TOKEN_KIND = "support"


class SupportError(Exception):
    """Bad input: ``message`` is a lazy string shown in the person's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AnswerNotEmailed(Exception):
    """The answer is stored, but the guest's email could not be sent."""


def check_screenshots(file_storages):
    """Read and check the attached pictures: ``[Upload]`` (each with its thumbnail)."""
    parts = []
    for storage in file_storages:
        data = storage.stream.read(MAX_SCREENSHOT_SIZE + 1)
        if storage.filename or data:
            parts.append((storage.filename or "", data))
    if len(parts) > MAX_SCREENSHOTS:
        raise SupportError(_l("Attach at most %(n)d screenshots.", n=MAX_SCREENSHOTS))
    uploads = []
    for name, data in parts:
        try:
            upload = files.check_file(name, data, MAX_SCREENSHOT_SIZE)
        except ChatError as refusal:
            raise SupportError(refusal.message) from None
        if upload.picture is None:
            shown = upload.name.replace("<", "‹").replace(">", "›")
            raise SupportError(
                _l("«%(name)s» is not a picture: attach screenshots or photos only.", name=shown)
            )
        uploads.append(upload)
    return uploads


def _store_screenshots(message, uploads):
    for upload in uploads:
        path, thumb_path = files.store(upload, "support")
        SupportScreenshot.create(
            message=message,
            name=upload.name,
            content_type=upload.type.content_type,
            size=len(upload.data),
            path=path,
            thumb_path=thumb_path,
            thumb_width=upload.picture.thumb_width,
            thumb_height=upload.picture.thumb_height,
        )


def guest_link(question, external=True):
    token = token_for(TOKEN_KIND, question.token_nonce)
    return url_for("help.guest_question", token=token, _external=external)


def do_ask(user, subject, text, steps, section, uploads, email="", locale="ru"):
    """Store a question (``user`` None: a guest who gave ``email``): ``(question, token)``."""
    nonce = token = token_hash = None
    if user is None:
        nonce, token, token_hash = new_token(TOKEN_KIND)
    try:
        with database.atomic():
            question = SupportQuestion.create(
                user=user,
                email=email if user is None else "",
                token_nonce=nonce,
                token_hash=token_hash,
                locale=locale,
                section=section,
                subject=subject,
                steps=steps,
            )
            message = SupportMessage.create(question=question, author=user, text=text)
            _store_screenshots(message, uploads)
    except BaseException:
        files.discard(uploads)
        raise
    return question, token


def email_guest_link(question):
    """Send a guest the secret link to their question; False if the mail did not go."""
    with force_locale(question.locale):
        subject = _("Your question to Parta's support")
        body = _(
            "We have received your question «%(subject)s». The answer will come to this address; "
            "the conversation is on this page (keep the link secret):\n\n%(link)s",
            subject=question.subject, link=guest_link(question),
        )
    try:
        send_email(question.email, subject, body)
    except DeliveryError:
        return False
    return True


def do_reply(question, author, text, uploads, from_support=False):
    """Add a message to the conversation; an answer from support is told to the asker."""
    try:
        with database.atomic():
            message = SupportMessage.create(
                question=question, author=author, from_support=from_support, text=text
            )
            _store_screenshots(message, uploads)
            question.status = SupportQuestion.ANSWERED if from_support else SupportQuestion.WAITING
            question.updated_at = utcnow()
            question.save()
    except BaseException:
        files.discard(uploads)
        raise
    if from_support:
        _tell_asker(question)
    return message


def _tell_asker(question):
    if question.user is not None:
        notify(
            question.user,
            "support_answer",
            _l("Support answered your question «%(subject)s».", subject=question.subject),
            url_for("help.question", question_id=question.id),
        )
        return
    with force_locale(question.locale):
        subject = _("Support answered your question")
        body = _(
            "Support answered your question «%(subject)s». Read the answer and reply here:\n\n%(link)s",
            subject=question.subject, link=guest_link(question),
        )
    try:
        send_email(question.email, subject, body)
    except DeliveryError as error:
        raise AnswerNotEmailed(str(error)) from error


PAGE_SIZE = 50


def questions_of(user, after=None):
    """A page of the person's questions, the latest active first, after the one with id ``after``."""
    return keyset_page(
        SupportQuestion.select().where(SupportQuestion.user == user),
        (SupportQuestion.updated_at, SupportQuestion.id),
        SupportQuestion.id,
        after,
        PAGE_SIZE,
        descending=True,
    )


def conversation(question):
    """The question's messages in order, each with its screenshots (two queries)."""
    messages = list(
        SupportMessage.select()
        .where(SupportMessage.question == question)
        .order_by(SupportMessage.created_at, SupportMessage.id)
    )
    shots = {}
    for shot in SupportScreenshot.select().where(
        SupportScreenshot.message.in_([m.id for m in messages])
    ).order_by(SupportScreenshot.id):
        shots.setdefault(shot.message_id, []).append(shot)
    for message in messages:
        message.shots = shots.get(message.id, [])
    return messages


def waiting_count():
    return SupportQuestion.select().where(SupportQuestion.status == SupportQuestion.WAITING).count()


def questions_for_operator(after=None):
    """Waiting questions, oldest first; then answered ones, the latest first.

    Every waiting one (the queue, worked down); a page of the answered, after id ``after``."""
    waiting = (
        SupportQuestion.select()
        .where(SupportQuestion.status == SupportQuestion.WAITING)
        .order_by(SupportQuestion.updated_at, SupportQuestion.id)
    )
    answered = keyset_page(
        SupportQuestion.select().where(SupportQuestion.status == SupportQuestion.ANSWERED),
        (SupportQuestion.updated_at, SupportQuestion.id),
        SupportQuestion.id,
        after,
        PAGE_SIZE,
        descending=True,
    )
    return list(waiting), answered


def do_feedback(user, text):
    return Feedback.create(user=user, text=text)


def feedback_for_operator(after=None):
    """A page of feedback, the newest first, after the one with id ``after``."""
    return keyset_page(
        Feedback.select(), (Feedback.created_at, Feedback.id), Feedback.id, after, PAGE_SIZE, descending=True
    )
