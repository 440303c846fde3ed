"""Who sees appeals to a school: its members write and follow their own; the school's
administrators read and answer all. Outsiders get 404, other members 403."""
from flask import abort

from blueprints.schools.access import access_school, is_admin
from db.models import Appeal


def access_appeals(user, school_id):
    """The school, for any of its members (the list shows each what they may see)."""
    return access_school(user, school_id)


def access_appeal(user, school_id, appeal_id):
    """``(school, appeal)`` for the appeal's author and the school's administrators."""
    school = access_school(user, school_id)
    appeal = Appeal.get_or_none((Appeal.id == appeal_id) & (Appeal.school == school))
    if appeal is None:
        abort(404)
    if appeal.author_id != user.id and not is_admin(user, school):
        abort(403)
    return school, appeal
