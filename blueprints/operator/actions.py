"""School applications (SPEC §2, seed [000]): filing one, and the operator's decision.

``check_*`` validates and raises ``ApplicationError`` with a lazy message; ``do_*``
writes inside a transaction. Email goes out only after the decision is committed,
so a mail server that is down never undoes a decision.
"""
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from blueprints.auth import delivery
from blueprints.auth.actions import AuthError, parse_identifier
from blueprints.extensions import format_phone
from blueprints.notifications.actions import notify
from blueprints.pagination import keyset_page
from blueprints.schools.actions import do_add_membership
from db import database
from db.models import Membership, RosterPerson, School, SchoolApplication, User, utcnow

NOTICE_KIND = "school_application"
ROSTER_NAME_MAX = 64


class ApplicationError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class EmailNotSent(ApplicationError):
    """The decision stands; only the email failed."""


# Filing ---------------------------------------------------------------------------------


def check_not_filed_twice(full_name, city):
    """The same school waits for a decision once: a second copy would only confuse."""
    waiting = SchoolApplication.select().where(
        (SchoolApplication.status == SchoolApplication.PENDING)
        & (SchoolApplication.city == city)
        & (SchoolApplication.full_name == full_name)
    )
    if waiting.exists():
        raise ApplicationError(
            _l("An application for this school is already waiting for a decision.")
        )


def do_submit_application(data, applicant=None):
    """Store an application (``data``: the form's fields) and tell the operators."""
    with database.atomic():
        check_not_filed_twice(data["full_name"], data["city"])
        application = SchoolApplication.create(
            full_name=data["full_name"],
            short_name=data["short_name"],
            country=data["country"],
            region=data["region"],
            city=data["city"],
            admin_name=data["admin_name"],
            admin_phone=data["admin_phone"],
            admin_email=data["admin_email"],
            applicant=applicant if applicant and applicant.is_authenticated else None,
        )
        link = url_for("operator.application", application_id=application.id)
        for operator in User.select().where(User.is_operator == True):  # noqa: E712
            notify(
                operator,
                NOTICE_KIND,
                _l("New school application: «%(school)s».", school=application.short_name),
                link,
            )
    return application


# Deciding -------------------------------------------------------------------------------


def pending_count():
    return (
        SchoolApplication.select()
        .where(SchoolApplication.status == SchoolApplication.PENDING)
        .count()
    )


PAGE_SIZE = 50


def applications_in_order(after=None):
    """Pending ones first, oldest first (they wait longest); then decided, newest first.

    Every pending one (the operator's queue, worked down); a page of the decided, after the
    decided application with id ``after``."""
    pending = list(
        SchoolApplication.select()
        .where(SchoolApplication.status == SchoolApplication.PENDING)
        .order_by(SchoolApplication.created_at, SchoolApplication.id)
    )
    decided = keyset_page(
        SchoolApplication.select().where(SchoolApplication.status != SchoolApplication.PENDING),
        (SchoolApplication.decided_at, SchoolApplication.id),
        SchoolApplication.id,
        after,
        PAGE_SIZE,
        descending=True,
    )
    return pending, decided


def _claim_decision(application, status, reason=""):
    """Mark the application decided unless somebody already did (a race or a second click)."""
    claimed = (
        SchoolApplication.update(status=status, reason=reason, decided_at=utcnow())
        .where(
            (SchoolApplication.id == application.id)
            & (SchoolApplication.status == SchoolApplication.PENDING)
        )
        .execute()
    )
    if not claimed:
        raise ApplicationError(
            _l("This application has already been decided: nothing was changed.")
        )


def check_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_l("Say why the application is rejected: the applicant will read it."))
    return reason


def existing_admin_account(application):
    """The account the administrator already has, by phone first, then by email."""
    return User.by_identifier(application.admin_phone) or User.by_identifier(
        application.admin_email
    )


def split_full_name(full_name):
    """«Иванова Мария Петровна» → (family, given, middle), each cut to the column's size."""
    parts = full_name.split()
    family = parts[0] if parts else ""
    given = parts[1] if len(parts) > 1 else ""
    middle = " ".join(parts[2:])
    return family[:ROSTER_NAME_MAX], given[:ROSTER_NAME_MAX], middle[:ROSTER_NAME_MAX]


def _admin_position():
    # A position is school data, like «Директор»: written in the platform's language.
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
        return str(_l("Administrator"))


def do_accept_application(application):
    """Create the school and make its administrator admin, now or at their sign-up.

    Returns the school. The applicant is told by email (after commit) and in the app.
    """
    with database.atomic():
        _claim_decision(application, SchoolApplication.ACCEPTED)
        school = School.create(
            full_name=application.full_name,
            short_name=application.short_name,
            country=application.country,
            region=application.region,
            city=application.city,
        )
        SchoolApplication.update(school=school).where(
            SchoolApplication.id == application.id
        ).execute()
        admin = existing_admin_account(application)
        if admin is not None:
            do_add_membership(admin, school, Membership.ADMIN, position=_admin_position())
        else:
            family, given, middle = split_full_name(application.admin_name)
            RosterPerson.create(
                school=school,
                sourced_id=f"application-{application.id}",
                role=Membership.ADMIN,
                family_name=family,
                given_name=given,
                middle_name=middle,
                phone=application.admin_phone,
                email=application.admin_email,
            )
        application = SchoolApplication.get_by_id(application.id)
        _notify_accepted(application, school, admin)
    _email_decision(application, admin)
    return school


def do_reject_application(application, reason):
    reason = check_reason(reason)
    with database.atomic():
        _claim_decision(application, SchoolApplication.REJECTED, reason)
        application = SchoolApplication.get_by_id(application.id)
        if application.applicant is not None:
            notify(
                application.applicant,
                NOTICE_KIND,
                _l(
                    "Your application for «%(school)s» was rejected. Reason: %(reason)s",
                    school=application.short_name,
                    reason=reason,
                ),
                url_for("schools.apply"),
            )
    _email_decision(application, None)
    return application


def _notify_accepted(application, school, admin):
    school_link = url_for("schools.school", school_id=school.id)
    applicant = application.applicant
    if applicant is not None:
        is_admin = admin is not None and admin.id == applicant.id
        notify(
            applicant,
            NOTICE_KIND,
            _l(
                "Your application for «%(school)s» was accepted: the school is on Parta.",
                school=school.short_name,
            ),
            school_link if is_admin else "",
        )
    if admin is not None and (applicant is None or admin.id != applicant.id):
        notify(
            admin,
            NOTICE_KIND,
            _l("You are now the administrator of «%(school)s».", school=school.short_name),
            school_link,
        )


def _email_locale(application):
    applicant = application.applicant
    return (applicant.locale if applicant is not None else None) or "ru"


def _decision_email(application, admin):
    if application.status == SchoolApplication.ACCEPTED:
        if admin is not None:
            link = url_for("auth.login", _external=True)
            how = _l(
                "Sign in to Parta with your account (%(phone)s): the school is under «My school».",
                phone=format_phone(application.admin_phone),
            )
        else:
            link = url_for("auth.signup", _external=True)
            how = _l(
                "Create an account on Parta with the phone number %(phone)s or the email "
                "%(email)s: you will become the school's administrator right away.",
                phone=format_phone(application.admin_phone),
                email=application.admin_email,
            )
        subject = _l("«%(school)s» is registered on Parta", school=application.short_name)
        lines = [
            _l("Hello, %(name)s!", name=application.admin_name),
            _l(
                "Your application to register «%(school)s» has been accepted.",
                school=application.full_name,
            ),
            how,
            link,
        ]
    else:
        subject = _l(
            "Your application for «%(school)s» was rejected", school=application.short_name
        )
        lines = [
            _l("Hello, %(name)s!", name=application.admin_name),
            _l(
                "Your application to register «%(school)s» was rejected. Reason: %(reason)s",
                school=application.full_name,
                reason=application.reason,
            ),
            _l("You can correct the application and send it again:"),
            url_for("schools.apply", _external=True),
        ]
    return str(subject), "\n\n".join(str(line) for line in lines)


def _email_decision(application, admin):
    """Tell the applicant by email; if that fails (delivery logs why), the decision stands."""
    with force_locale(_email_locale(application)):
        subject, body = _decision_email(application, admin)
    try:
        delivery.send_email(application.admin_email, subject, body)
    except delivery.DeliveryError:
        raise EmailNotSent(
            _l("The decision is saved, but the email to %(email)s could not be sent.",
               email=application.admin_email)
        ) from None


# The operator account ----------------------------------------------------------------------


def do_set_operator(raw_identifier, is_operator=True):
    """Make an existing account an operator (or not); returns the account.

    Raises ``ApplicationError`` for something that is not a phone or email, or for a
    person without an account: operators are never created by the web or from nothing.
    """
    try:
        identifier = parse_identifier(raw_identifier)
    except AuthError as error:
        raise ApplicationError(error.message) from None
    user = User.by_identifier(identifier.value)
    if user is None:
        raise ApplicationError(
            f"No account with {identifier.display}: the person must sign up first, "
            "then run this command again."
        )
    with database.atomic():
        User.update(is_operator=is_operator).where(User.id == user.id).execute()
    return User.get_by_id(user.id)
