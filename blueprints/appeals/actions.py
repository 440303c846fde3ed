"""Appeals to a school: a member writes to the administration, the administration answers.

Notifications go after the commit: a new appeal or the author's reply to the school's
administrators, an administrator's answer to the author.
"""
from flask import url_for
from flask_babel import lazy_gettext as _l

from blueprints.notifications.actions import notify
from blueprints.pagination import keyset_page
from db import database
from db.models import Appeal, AppealMessage, Membership, User, utcnow

SUBJECT_MAX = 200
TEXT_MAX = 5000


def _link(appeal):
    return url_for("appeals.appeal", school_id=appeal.school_id, appeal_id=appeal.id)


def _admins(school, but=None):
    admins = (
        User.select()
        .join(Membership, on=(Membership.user == User.id))
        .where((Membership.school == school) & (Membership.role == Membership.ADMIN))
        .distinct()
    )
    return [admin for admin in admins if but is None or admin.id != but.id]


def do_appeal(author, school, subject, text):
    with database.atomic():
        appeal = Appeal.create(school=school, author=author, subject=subject)
        AppealMessage.create(appeal=appeal, author=author, text=text)
    for admin in _admins(school, but=author):
        notify(
            admin,
            "appeal",
            _l("%(name)s wrote to the school: «%(subject)s».", name=author.full_name, subject=subject),
            _link(appeal),
        )
    return appeal


def do_reply(appeal, author, text):
    """The author's reply goes to the administrators; an administrator's answer to the author."""
    from_school = author.id != appeal.author_id
    with database.atomic():
        message = AppealMessage.create(appeal=appeal, author=author, from_school=from_school, text=text)
        appeal.status = Appeal.ANSWERED if from_school else Appeal.WAITING
        appeal.updated_at = utcnow()
        appeal.save()
    if from_school:
        notify(
            appeal.author,
            "appeal_answer",
            _l("The school answered your appeal «%(subject)s».", subject=appeal.subject),
            _link(appeal),
        )
    else:
        for admin in _admins(appeal.school, but=author):
            notify(
                admin,
                "appeal",
                _l("%(name)s wrote to the school: «%(subject)s».", name=author.full_name, subject=appeal.subject),
                _link(appeal),
            )
    return message


PAGE_SIZE = 50


def appeals_for(user, school, admin, after=None):
    """All of the school's appeals for an administrator (waiting first); one's own for others.

    A page of them, after the appeal with id ``after``."""
    query = Appeal.select().where(Appeal.school == school)
    if not admin:
        query = query.where(Appeal.author == user)
    return keyset_page(
        query, (Appeal.status, Appeal.updated_at, Appeal.id), Appeal.id, after, PAGE_SIZE, descending=True
    )


def conversation(appeal):
    return list(
        AppealMessage.select()
        .where(AppealMessage.appeal == appeal)
        .order_by(AppealMessage.created_at, AppealMessage.id)
    )
