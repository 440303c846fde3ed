"""Who sees a support question: its asker (by account, or a guest by the secret link) and
the platform operator. Everyone else gets 404: a question's existence is private too."""
from flask import abort

from blueprints.schools.tokens import hash_token
from db.models import SupportMessage, SupportQuestion, SupportScreenshot


def access_question(user, question_id):
    """A question of ``user``'s own account."""
    question = SupportQuestion.get_or_none(SupportQuestion.id == question_id)
    if question is None or not user.is_authenticated or question.user_id != user.id:
        abort(404)
    return question


def access_guest_question(token):
    """The guest's question that the secret link ``token`` names."""
    question = SupportQuestion.get_or_none(SupportQuestion.token_hash == hash_token(token))
    if question is None:
        abort(404)
    return question


def access_operator_question(question_id):
    """Any question, for the operator (the operator area checks the operator first)."""
    question = SupportQuestion.get_or_none(SupportQuestion.id == question_id)
    if question is None:
        abort(404)
    return question


def _screenshot_of(shot_id):
    shot = (
        SupportScreenshot.select(SupportScreenshot, SupportMessage)
        .join(SupportMessage)
        .where(SupportScreenshot.id == shot_id)
        .first()
    )
    if shot is None:
        abort(404)
    return shot


def access_screenshot(user, shot_id):
    """A screenshot for the asker's account or for the operator."""
    shot = _screenshot_of(shot_id)
    if not user.is_authenticated:
        abort(404)
    if not user.is_operator and shot.message.question.user_id != user.id:
        abort(404)
    return shot


def access_guest_screenshot(token, shot_id):
    question = access_guest_question(token)
    shot = _screenshot_of(shot_id)
    if shot.message.question_id != question.id:
        abort(404)
    return shot
