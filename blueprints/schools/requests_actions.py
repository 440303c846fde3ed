"""Invitation links and join requests (SPEC §3): check_* refuse, do_* write.

Following a link or applying only ever files a JoinRequest; a membership comes
when an administrator (or the class teacher, for students of their class) accepts it.
"""
import datetime as dt

from flask import url_for
from flask_babel import lazy_gettext as _l

from blueprints.notifications.actions import notify
from blueprints.pagination import keyset_page
from blueprints.schools.access import is_admin
from blueprints.schools.actions import do_add_membership
from blueprints.schools.tokens import hash_token, new_token, token_for
from db import database
from db.models import (
    Invitation,
    JoinRequest,
    Membership,
    ParentLink,
    School,
    SchoolClass,
    User,
    utcnow,
)

INVITE = "invite"
LIFETIME_DAYS = (1, 7, 30)
MAX_SUBJECTS_LENGTH = 255


class JoinError(Exception):
    """A refusal with a message for the person; ``kind`` names it for the page and tests."""

    def __init__(self, message, kind="invalid"):
        super().__init__(str(message))
        self.message = message
        self.kind = kind


# What a role is called ------------------------------------------------------------


def role_label(role, school_class=None):
    """«учитель в 7А», «ученик 7А», «администратор», «родитель»: lazy, in the reader's language."""
    name = school_class.name if school_class is not None else None
    if role == Membership.TEACHER:
        return _l("teacher in %(cls)s", cls=name) if name else _l("teacher")
    if role == Membership.STUDENT:
        return _l("student of %(cls)s", cls=name) if name else _l("student")
    if role == Membership.PARENT:
        return _l("parent in %(cls)s", cls=name) if name else _l("parent")
    return _l("administrator")


def split_subjects(raw):
    """«Математика, Физика» → ["Математика", "Физика"] without blanks or repeats."""
    seen = []
    for part in (raw or "").replace(";", ",").split(","):
        part = " ".join(part.split())
        if part and part.casefold() not in [s.casefold() for s in seen]:
            seen.append(part)
    return seen


def is_parent_account(user):
    """Whether this account is already somebody's parent: a child should not sign up on it."""
    return (
        Membership.select().where((Membership.user == user) & (Membership.role == Membership.PARENT)).exists()
        or ParentLink.select().where(ParentLink.parent == user).exists()
    )


# Invitations ------------------------------------------------------------------------


def invitation_url(invitation):
    return url_for("schools.invite", token=token_for(INVITE, invitation.nonce), _external=True)


def invitation_state(invitation, now=None):
    """live, revoked, expired or used_up."""
    now = now or utcnow()
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return "used_up"
    return "live"


def invitations_visible_to(user, school):
    """Administrators see every link of the school; a class teacher, those for their classes."""
    query = Invitation.select().where(Invitation.school == school)
    if not is_admin(user, school):
        mine = SchoolClass.select(SchoolClass.id).where(
            (SchoolClass.school == school) & (SchoolClass.class_teacher == user)
        )
        query = query.where(
            (Invitation.role == Membership.STUDENT) & Invitation.school_class.in_(mine)
        )
    return list(query.order_by(Invitation.created_at.desc(), Invitation.id.desc()))


def check_invitation_fields(role, school_class, days, max_uses):
    if role == Membership.STUDENT and school_class is None:
        raise JoinError(_l("Choose the class the students are invited to."))
    if role == Membership.ADMIN and school_class is not None:
        raise JoinError(_l("An administrator is invited to the whole school: leave the class empty."))
    if days not in LIFETIME_DAYS:
        raise JoinError(_l("Choose how long the link works."))
    if max_uses is not None and not 1 <= max_uses <= 1000:
        raise JoinError(_l("The number of uses is from 1 to 1000, or empty for no limit."))


def do_create_invitation(creator, school, role, school_class, days, max_uses=None):
    """A new link; the caller has checked ``can_invite``. Returns (invitation, token)."""
    check_invitation_fields(role, school_class, days, max_uses)
    nonce, token, token_hash = new_token(INVITE)
    now = utcnow()
    with database.atomic():
        invitation = Invitation.create(
            school=school,
            role=role,
            school_class=school_class,
            created_by=creator,
            nonce=nonce,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
            max_uses=max_uses,
        )
    return invitation, token


def do_revoke_invitation(invitation):
    with database.atomic():
        Invitation.update(revoked_at=utcnow()).where(
            (Invitation.id == invitation.id) & Invitation.revoked_at.is_null()
        ).execute()


def find_invitation(token):
    """The invitation a token opens, or None. Only the token's hash is ever looked up."""
    if not token or len(token) > 100:
        return None
    return Invitation.get_or_none(Invitation.token_hash == hash_token(token))


DEAD_LINK = {
    "revoked": _l("This invitation link has been revoked. Ask whoever sent it for a new one."),
    "expired": _l("This invitation link has expired. Ask whoever sent it for a new one."),
    "used_up": _l("This invitation link has already been used as many times as allowed. Ask whoever sent it for a new one."),
}


def check_invitation_live(invitation):
    state = invitation_state(invitation)
    if state != "live":
        raise JoinError(DEAD_LINK[state], kind=state)


# Requests -------------------------------------------------------------------------


def check_can_request(user, school, role, school_class, subjects=()):
    """Refuse a request for what the person already has or has already asked for."""
    held = Membership.select().where(
        (Membership.user == user)
        & (Membership.school == school)
        & (Membership.role == role)
        & (
            Membership.school_class.is_null()
            if school_class is None
            else Membership.school_class == school_class
        )
    )
    held_subjects = {m.subject.casefold() for m in held}
    already = bool(held_subjects) and (
        role != Membership.TEACHER
        or not subjects
        or all(s.casefold() in held_subjects for s in subjects)
    )
    if already:
        raise JoinError(
            _l("You are already in %(school)s as %(role)s.", school=school.short_name, role=role_label(role, school_class)),
            kind="member",
        )
    pending = JoinRequest.select().where(
        (JoinRequest.user == user)
        & (JoinRequest.school == school)
        & (JoinRequest.role == role)
        & (JoinRequest.status == JoinRequest.PENDING)
        & (
            JoinRequest.school_class.is_null()
            if school_class is None
            else JoinRequest.school_class == school_class
        )
    )
    if pending.exists():
        raise JoinError(
            _l("Your request to join %(school)s as %(role)s is already waiting for a decision.", school=school.short_name, role=role_label(role, school_class)),
            kind="pending",
        )


def check_subjects(role, raw):
    subjects = split_subjects(raw)
    if role == Membership.TEACHER and not subjects:
        raise JoinError(_l("Name the subject you teach (several can be separated by commas)."))
    if len(", ".join(subjects)) > MAX_SUBJECTS_LENGTH:
        raise JoinError(_l("The list of subjects is too long."))
    return subjects


def check_parent_confirmed(user, role, confirmed):
    """A child is registered on their own phone or email, not on a parent's account."""
    if role == Membership.STUDENT and is_parent_account(user) and not confirmed:
        raise JoinError(
            _l("This account already belongs to a parent. Tick «Continue anyway» if you are sure."),
            kind="parent",
        )


def deciders_of(school, role, school_class):
    """Who is told about a new request: the administrators, and the class teacher for students."""
    people = {u.id: u for u in school.people(Membership.ADMIN)}
    if role == Membership.STUDENT and school_class is not None and school_class.class_teacher_id:
        teacher = User.get_or_none(User.id == school_class.class_teacher_id)
        if teacher is not None:
            people.setdefault(teacher.id, teacher)
    return list(people.values())


def _file_request(user, school, role, school_class, subjects, invitation=None):
    join_request = JoinRequest.create(
        user=user,
        school=school,
        role=role,
        school_class=school_class,
        subjects=", ".join(subjects),
        invitation=invitation,
    )
    return join_request


def _notify_deciders(join_request):
    link = url_for("schools.requests", school_id=join_request.school_id)
    for person in deciders_of(join_request.school, join_request.role, join_request.school_class):
        notify(
            person,
            "join_request",
            _l(
                "%(name)s asks to join %(school)s as %(role)s.",
                name=join_request.user.full_name,
                school=join_request.school.short_name,
                role=role_label(join_request.role, join_request.school_class),
            ),
            link,
        )


def do_join_via_invite(user, invitation, subjects_raw="", parent_confirmed=False):
    """File the request a link invites to, counting the use; never a membership."""
    check_invitation_live(invitation)
    subjects = check_subjects(invitation.role, subjects_raw)
    if invitation.role != Membership.TEACHER:
        subjects = []
    check_can_request(user, invitation.school, invitation.role, invitation.school_class, subjects)
    check_parent_confirmed(user, invitation.role, parent_confirmed)
    now = utcnow()
    with database.atomic():
        counted = (
            Invitation.update(uses=Invitation.uses + 1)
            .where(
                (Invitation.id == invitation.id)
                & Invitation.revoked_at.is_null()
                & (Invitation.expires_at > now)
                & (Invitation.max_uses.is_null() | (Invitation.uses < Invitation.max_uses))
            )
            .execute()
        )
        if not counted:
            raise JoinError(DEAD_LINK["used_up"], kind="used_up")
        join_request = _file_request(
            user, invitation.school, invitation.role, invitation.school_class, subjects, invitation
        )
        _notify_deciders(join_request)
    return join_request


APPLY_ROLES = (Membership.TEACHER, Membership.STUDENT, Membership.PARENT)


def do_apply_to_join(user, school, role, classes, subjects_raw="", parent_confirmed=False):
    """An application without a link: one request per class chosen (a teacher may pick several)."""
    if role not in APPLY_ROLES:
        raise JoinError(_l("Choose your role."))
    subjects = check_subjects(role, subjects_raw) if role == Membership.TEACHER else []
    if role == Membership.STUDENT and len(classes) != 1:
        raise JoinError(_l("Choose your class."))
    if role == Membership.TEACHER and not classes:
        raise JoinError(_l("Choose the classes you teach."))
    if role == Membership.PARENT and len(classes) > 1:
        raise JoinError(_l("Choose one class: your child's."))
    targets = list(classes) or [None]
    for school_class in targets:
        check_can_request(user, school, role, school_class, subjects)
    check_parent_confirmed(user, role, parent_confirmed)
    with database.atomic():
        filed = [_file_request(user, school, role, c, subjects) for c in targets]
        for join_request in filed:
            _notify_deciders(join_request)
    return filed


DECIDED_PAGE_SIZE = 50


def requests_for(user, school, after=None):
    """(pending, decided) requests of ``school`` that ``user`` may decide (``can_decide``).

    Every pending one (the queue, worked down); a page of the decided, newest first, after the
    one with id ``after``."""
    mine = JoinRequest.select().where(JoinRequest.school == school)
    if not is_admin(user, school):
        classes = SchoolClass.select(SchoolClass.id).where(
            (SchoolClass.school == school) & (SchoolClass.class_teacher == user)
        )
        mine = mine.where((JoinRequest.role == Membership.STUDENT) & JoinRequest.school_class.in_(classes))
    pending = list(
        mine.where(JoinRequest.status == JoinRequest.PENDING).order_by(
            JoinRequest.created_at.desc(), JoinRequest.id.desc()
        )
    )
    decided = keyset_page(
        mine.where(JoinRequest.status != JoinRequest.PENDING),
        (JoinRequest.created_at, JoinRequest.id),
        JoinRequest.id,
        after,
        DECIDED_PAGE_SIZE,
        descending=True,
    )
    return pending, decided


def pending_requests_count(user, school):
    """The badge beside «Заявки» on the school page: requests waiting for ``user``'s decision."""
    if not user.is_authenticated:
        return 0
    query = JoinRequest.select().where(
        (JoinRequest.school == school) & (JoinRequest.status == JoinRequest.PENDING)
    )
    if is_admin(user, school):
        return query.count()
    mine = SchoolClass.select(SchoolClass.id).where(
        (SchoolClass.school == school) & (SchoolClass.class_teacher == user)
    )
    return query.where(
        (JoinRequest.role == Membership.STUDENT) & JoinRequest.school_class.in_(mine)
    ).count()


ACCEPT, REJECT = "accept", "reject"


def check_decision(join_request, decision, reason):
    if join_request.status != JoinRequest.PENDING:
        raise JoinError(_l("This request has already been decided."), kind="decided")
    if decision not in (ACCEPT, REJECT):
        raise JoinError(_l("Choose to accept or to reject the request."))
    if decision == REJECT and not (reason or "").strip():
        raise JoinError(_l("Write the reason for rejecting: the person will see it."), kind="reason")
    if len(reason or "") > 1000:
        raise JoinError(_l("The reason is too long: at most 1000 characters."))


def do_decide_request(decider, join_request, decision, reason=""):
    """Accept (memberships are added) or reject; the person is told either way."""
    reason = (reason or "").strip()
    check_decision(join_request, decision, reason)
    school = join_request.school
    status = JoinRequest.ACCEPTED if decision == ACCEPT else JoinRequest.REJECTED
    with database.atomic():
        claimed = (
            JoinRequest.update(
                status=status, reason=reason, decided_by=decider, decided_at=utcnow()
            )
            .where((JoinRequest.id == join_request.id) & (JoinRequest.status == JoinRequest.PENDING))
            .execute()
        )
        if not claimed:
            raise JoinError(_l("This request has already been decided."), kind="decided")
        if status == JoinRequest.ACCEPTED:
            for subject in split_subjects(join_request.subjects) or [""]:
                do_add_membership(
                    join_request.user, school, join_request.role, join_request.school_class, subject
                )
        _notify_decision(join_request, status, reason)
    return JoinRequest.get_by_id(join_request.id)


def _notify_decision(join_request, status, reason):
    school = join_request.school
    role = role_label(join_request.role, join_request.school_class)
    if status == JoinRequest.ACCEPTED:
        if reason:
            message = _l(
                "Your request to join %(school)s as %(role)s was accepted. Comment: %(reason)s",
                school=school.short_name, role=role, reason=reason,
            )
        else:
            message = _l(
                "Your request to join %(school)s as %(role)s was accepted.",
                school=school.short_name, role=role,
            )
        link = url_for("schools.school", school_id=school.id)
    else:
        message = _l(
            "Your request to join %(school)s as %(role)s was rejected. Reason: %(reason)s",
            school=school.short_name, role=role, reason=reason,
        )
        link = ""
    notify(join_request.user, "join_decision", message, link)


# Finding a school ---------------------------------------------------------------------


def countries():
    return [row.country for row in School.select(School.country).distinct().order_by(School.country)]


def cities(country):
    return [
        row.city
        for row in School.select(School.city)
        .where(School.country == country)
        .distinct()
        .order_by(School.city)
    ]


def find_schools(country, city, text=""):
    """Schools of a city whose name contains ``text`` (case-insensitive, Cyrillic too)."""
    schools = School.select().where((School.country == country) & (School.city == city))
    needle = " ".join((text or "").split()).casefold()
    found = [
        s for s in schools
        if not needle or needle in s.short_name.casefold() or needle in s.full_name.casefold()
    ]
    return sorted(found, key=lambda s: s.short_name.casefold())
