"""Who may see a school: decided here, in one place, for the whole area."""
from flask import abort

from db.models import Membership, School


def access_school(user, school_id):
    """The school if ``user`` belongs to it; 404 otherwise, so outsiders learn nothing."""
    school = School.get_or_none(School.id == school_id)
    if school is None or not user.is_authenticated:
        abort(404)
    if not Membership.of(user, school).exists():
        abort(404)
    return school
