"""The help centre (SPEC §11): answers by section with search, questions to support with
screenshots («Задать свой вопрос», «Мои вопросы»), a guest's question by email, the privacy
page and feedback."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from blueprints.chats.files import serve_file
from blueprints.extensions import limiter
from blueprints.help import access, actions, content
from blueprints.help.actions import MAX_SCREENSHOTS, SUBJECT_MAX, TEXT_MAX, SupportError
from blueprints.pagination import after_id, render_list

bp = Blueprint("help", __name__)

guest_limit = limiter.limit(
    "10 per hour", methods=["POST"], exempt_when=lambda: current_user.is_authenticated
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, required_message, max_length, rows=4):
    return TextAreaField(
        label,
        validators=[
            DataRequired(required_message),
            Length(max=max_length, message=_l("At most %(max)d characters.", max=max_length)),
        ],
        filters=[_strip],
        render_kw={"rows": rows, "maxlength": max_length},
    )


class AskForm(FlaskForm):
    email = EmailField(
        _l("Your email"),
        validators=[
            DataRequired(_l("Enter the email address the answer should come to.")),
            Email(_l("This does not look like an email address: check it and try again.")),
            Length(max=254),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
    subject = StringField(
        _l("Topic"),
        validators=[
            DataRequired(_l("Say in a few words what the question is about.")),
            Length(max=SUBJECT_MAX, message=_l("At most %(max)d characters.", max=SUBJECT_MAX)),
        ],
        filters=[_strip],
        render_kw={"maxlength": SUBJECT_MAX},
    )
    text = _text(_l("Your question"), _l("Write your question."), TEXT_MAX, rows=5)
    steps = TextAreaField(
        _l("What did you do before the error?"),
        validators=[Length(max=TEXT_MAX, message=_l("At most %(max)d characters.", max=TEXT_MAX))],
        filters=[_strip],
        render_kw={"rows": 4, "maxlength": TEXT_MAX},
    )
    screenshots = MultipleFileField(
        _l("Screenshots"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp", "multiple": True}
    )


class ReplyForm(FlaskForm):
    text = _text(_l("Your message"), _l("Write a message."), TEXT_MAX)
    screenshots = MultipleFileField(
        _l("Screenshots"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp", "multiple": True}
    )


class FeedbackForm(FlaskForm):
    text = _text(
        _l("What is missing or could be better?"), _l("Write your feedback."), TEXT_MAX, rows=6
    )


# Answers -----------------------------------------------------------------------------------


@bp.route("/help")
def index():
    query = request.args.get("q", "").strip()[:200]
    results = content.search(query) if query else None
    return render_template(
        "help/index.html", sections=content.sections(), query=query, results=results
    )


@bp.route("/help/<slug>")
def section(slug):
    found = content.section(slug)
    if found is None:
        abort(404)
    return render_template("help/section.html", section=found)


# Asking --------------------------------------------------------------------------------------


def _ask_form():
    form = AskForm()
    if current_user.is_authenticated:
        del form.email
    return form


def _ask_page(form, error=None, status=200):
    section = content.section(request.values.get("section", ""))
    return (
        render_template(
            "help/ask.html", form=form, section=section, error=error, max_screenshots=MAX_SCREENSHOTS
        ),
        status,
    )


@bp.route("/help/ask", methods=["GET", "POST"])
@guest_limit
def ask():
    form = _ask_form()
    if not form.validate_on_submit():
        return _ask_page(form, status=400 if request.method == "POST" else 200)
    try:
        uploads = actions.check_screenshots(request.files.getlist("screenshots"))
    except SupportError as refusal:
        return _ask_page(form, refusal.message, 400)
    section = content.section(request.form.get("section", ""))
    user = current_user if current_user.is_authenticated else None
    question, token = actions.do_ask(
        user,
        form.subject.data,
        form.text.data,
        form.steps.data,
        section.slug if section else "",
        uploads,
        email=form.email.data.lower() if user is None else "",
        locale=str(get_locale() or "ru"),
    )
    if user is not None:
        flash(_("Your question is sent. Support's answer will come as a notification."))
        return redirect(url_for("help.question", question_id=question.id), code=303)
    if actions.email_guest_link(question):
        flash(_("Your question is sent. The answer will come to %(email)s; this page's link is in the email too.", email=question.email))
    else:
        flash(_("Your question is sent, but the email did not go: keep this page's address to read the answer."), "error")
    return redirect(url_for("help.guest_question", token=token), code=303)


# Conversations -------------------------------------------------------------------------------


@bp.route("/help/questions")
@login_required
def questions():
    questions = actions.questions_of(current_user, after_id())
    return render_list("help/questions.html", "help/_questions.html", "questions", questions=questions)


def _conversation_page(question, form, token=None, error=None, status=200):
    return (
        render_template(
            "help/question.html",
            question=question,
            messages=actions.conversation(question),
            form=form,
            token=token,
            error=error,
            section=content.section(question.section),
            max_screenshots=MAX_SCREENSHOTS,
        ),
        status,
    )


def _reply(question, author, token=None):
    form = ReplyForm()
    if not form.validate_on_submit():
        return _conversation_page(question, form, token, status=400)
    try:
        uploads = actions.check_screenshots(request.files.getlist("screenshots"))
    except SupportError as refusal:
        return _conversation_page(question, form, token, refusal.message, 400)
    actions.do_reply(question, author, form.text.data, uploads)
    flash(_("Your message is sent to support."))
    target = (
        url_for("help.guest_question", token=token)
        if token
        else url_for("help.question", question_id=question.id)
    )
    return redirect(target, code=303)


@bp.route("/help/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def question(question_id):
    question = access.access_question(current_user, question_id)
    if request.method == "POST":
        return _reply(question, current_user)
    return _conversation_page(question, ReplyForm())


@bp.route("/help/q/<token>", methods=["GET", "POST"])
@guest_limit
def guest_question(token):
    question = access.access_guest_question(token)
    if request.method == "POST":
        return _reply(question, None, token)
    return _conversation_page(question, ReplyForm(), token)


def _serve_screenshot(shot, thumbnail):
    if thumbnail:
        return serve_file(shot.thumb_path, "image/webp", inline=True, thumbnail=True)
    return serve_file(shot.path, shot.content_type, inline=True, name=shot.name)


@bp.route("/help/screenshots/<int:shot_id>")
@bp.route("/help/screenshots/<int:shot_id>/thumb", endpoint="screenshot_thumb", defaults={"thumbnail": True})
def screenshot(shot_id, thumbnail=False):
    return _serve_screenshot(access.access_screenshot(current_user, shot_id), thumbnail)


@bp.route("/help/q/<token>/screenshots/<int:shot_id>")
@bp.route(
    "/help/q/<token>/screenshots/<int:shot_id>/thumb",
    endpoint="guest_screenshot_thumb",
    defaults={"thumbnail": True},
)
def guest_screenshot(token, shot_id, thumbnail=False):
    return _serve_screenshot(access.access_guest_screenshot(token, shot_id), thumbnail)


# Privacy and feedback ------------------------------------------------------------------------


@bp.route("/privacy")
def privacy():
    return render_template("help/privacy.html")


@bp.route("/feedback", methods=["GET", "POST"])
@login_required
def feedback():
    form = FeedbackForm()
    if form.validate_on_submit():
        actions.do_feedback(current_user, form.text.data)
        flash(_("Thank you: your feedback is sent to Parta's operator."))
        return redirect(url_for("help.feedback"), code=303)
    return render_template("help/feedback.html", form=form), 400 if request.method == "POST" else 200
