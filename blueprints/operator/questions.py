"""The operator's side of support: questions to answer (with the asker's screenshots) and feedback."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.help import access as help_access
from blueprints.help import actions as help_actions
from blueprints.help import content
from blueprints.help.actions import AnswerNotEmailed, SupportError
from blueprints.help.routes import ReplyForm
from blueprints.operator.routes import bp
from blueprints.pagination import after_id, render_list


@bp.app_context_processor
def support_context():
    """``waiting_support_questions`` for the operator's menu badge (0 for everyone else)."""
    if current_user.is_authenticated and current_user.is_operator:
        return {"waiting_support_questions": help_actions.waiting_count()}
    return {"waiting_support_questions": 0}


@bp.route("/questions")
def questions():
    waiting, answered = help_actions.questions_for_operator(after_id())
    return render_list(
        "operator/questions.html", "operator/_answered.html", "answered", waiting=waiting, answered=answered
    )


def _question_page(question, form, error=None, status=200):
    return (
        render_template(
            "operator/question.html",
            question=question,
            messages=help_actions.conversation(question),
            form=form,
            error=error,
            section=content.section(question.section),
            max_screenshots=help_actions.MAX_SCREENSHOTS,
        ),
        status,
    )


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def question(question_id):
    question = help_access.access_operator_question(question_id)
    form = ReplyForm()
    if request.method == "GET":
        return _question_page(question, form)
    if not form.validate_on_submit():
        return _question_page(question, form, status=400)
    try:
        uploads = help_actions.check_screenshots(request.files.getlist("screenshots"))
    except SupportError as refusal:
        return _question_page(question, form, refusal.message, 400)
    try:
        help_actions.do_reply(question, current_user, form.text.data, uploads, from_support=True)
    except AnswerNotEmailed:
        flash(_("The answer is saved, but the email to %(email)s did not go.", email=question.email), "error")
    else:
        flash(_("The answer is sent."))
    return redirect(url_for("operator.question", question_id=question.id), code=303)


@bp.route("/feedback")
def feedback():
    feedback = help_actions.feedback_for_operator(after_id())
    return render_list("operator/feedback.html", "operator/_feedback.html", "feedback", feedback=feedback)
