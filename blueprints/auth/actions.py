"""Account actions: ``check_*`` validates, ``do_*`` writes inside a transaction.

Every refusal raises ``AuthError`` with a message in the person's language, and
leaves the database as it was.
"""
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l, ngettext
from flask_babel import gettext as _

from blueprints.auth import delivery
from blueprints.extensions import format_phone
from db import database
from db.models import OneTimeCode, User, utcnow

CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
RESEND_COOLDOWN = dt.timedelta(seconds=60)
RISKY_FAILED_SIGNINS = 3
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

SIGNUP, RESET, SIGNIN = "signup", "reset", "signin"

password_hasher = PasswordHasher()


class AuthError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Identifier:
    """A normalised phone number (E.164) or email address."""

    value: str
    kind: str  # "phone" or "email"

    @property
    def display(self):
        return self.value if self.kind == "email" else format_phone(self.value)


def parse_identifier(raw, allow_email=True):
    """Read what a person typed as their phone or email; raise AuthError if it is neither."""
    raw = (raw or "").strip()
    if not raw:
        raise AuthError(_l("Enter your mobile phone number or email."))
    if "@" in raw:
        if not allow_email:
            raise AuthError(_l("Parents sign up with a mobile phone number."))
        try:
            email = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            raise AuthError(_l("This does not look like an email address: check it and try again."))
        return Identifier(email.lower(), "email")
    return Identifier(parse_phone(raw), "phone")


def parse_phone(raw):
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        number = None
    mobile = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile
    ):
        raise AuthError(
            _l("This is not a valid mobile phone number. Example: +7 921 869-52-60.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_password(password):
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AuthError(
            ngettext(
                "The password needs at least %(num)d character.",
                "The password needs at least %(num)d characters.",
                PASSWORD_MIN_LENGTH,
            )
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise AuthError(
            ngettext(
                "The password may have at most %(num)d character.",
                "The password may have at most %(num)d characters.",
                PASSWORD_MAX_LENGTH,
            )
        )


def hash_password(password):
    return password_hasher.hash(password)


def password_matches(user, password):
    try:
        password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if password_hasher.check_needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
    return True


# One-time codes -------------------------------------------------------------------


def _code_digest(identifier, purpose, code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{identifier}:{code}".encode(), hashlib.sha256).hexdigest()


def seconds_until_resend(identifier, purpose):
    latest = OneTimeCode.latest(identifier.value, purpose)
    if latest is None:
        return 0
    wait = latest.created_at + RESEND_COOLDOWN - utcnow()
    return max(0, int(wait.total_seconds() + 0.999))


def check_can_send_code(identifier, purpose):
    wait = seconds_until_resend(identifier, purpose)
    if wait:
        raise AuthError(
            ngettext(
                "A new code can be requested in %(num)d second.",
                "A new code can be requested in %(num)d seconds.",
                wait,
            )
        )


def _code_message(identifier, purpose, code):
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    if purpose == RESET:
        text = _("Parta password reset code: %(code)s", code=code)
    else:
        text = _("Parta confirmation code: %(code)s", code=code)
    if identifier.kind == "phone":
        return None, text
    subject = _("Your Parta code: %(code)s", code=code)
    body = "\n\n".join(
        [
            text,
            ngettext(
                "The code is valid for %(num)d minute.", "The code is valid for %(num)d minutes.", minutes
            ),
            _("If you did not ask for it, ignore this message: nobody gets in without the code."),
        ]
    )
    return subject, body


def do_send_code(identifier, purpose, deliver=True):
    """Store a new code (older ones die) and send it; nothing is stored if sending fails."""
    check_can_send_code(identifier, purpose)
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    subject, body = _code_message(identifier, purpose, code)
    with database.atomic():
        OneTimeCode.update(revoked=True).where(
            (OneTimeCode.identifier == identifier.value)
            & (OneTimeCode.purpose == purpose)
            & OneTimeCode.used_at.is_null()
        ).execute()
        OneTimeCode.create(
            identifier=identifier.value,
            purpose=purpose,
            code_hash=_code_digest(identifier.value, purpose, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        if not deliver:
            return
        try:
            if identifier.kind == "email":
                delivery.send_email(identifier.value, subject, body)
            else:
                delivery.send_sms(identifier.value, body)
        except delivery.DeliveryError:
            # Raised inside atomic(): the new code is rolled back, the older ones live on.
            raise AuthError(
                _l("We could not send the code right now. Try again in a few minutes.")
            ) from None


def do_verify_code(identifier, purpose, typed):
    """Accept the latest live code for this identifier, or raise AuthError."""
    typed = "".join(ch for ch in (typed or "") if ch.isdigit())
    if len(typed) != 6:
        raise AuthError(_l("The code has 6 digits."))
    code = OneTimeCode.latest(identifier.value, purpose)
    if code is None or code.revoked or code.used_at is not None:
        raise AuthError(_l("This code no longer works. Request a new one."))
    if code.expires_at <= utcnow():
        raise AuthError(_l("The code has expired: it is valid for 10 minutes. Request a new one."))
    if code.attempts >= CODE_MAX_ATTEMPTS:
        raise AuthError(_l("The code was entered wrongly 5 times and no longer works. Request a new one."))
    if hmac.compare_digest(code.code_hash, _code_digest(identifier.value, purpose, typed)):
        claimed = (
            OneTimeCode.update(used_at=utcnow())
            .where((OneTimeCode.id == code.id) & OneTimeCode.used_at.is_null())
            .execute()
        )
        if claimed:
            return
        raise AuthError(_l("This code no longer works. Request a new one."))
    OneTimeCode.update(attempts=OneTimeCode.attempts + 1).where(OneTimeCode.id == code.id).execute()
    left = CODE_MAX_ATTEMPTS - code.attempts - 1
    if left <= 0:
        raise AuthError(_l("The code was entered wrongly 5 times and no longer works. Request a new one."))
    raise AuthError(
        ngettext(
            "Wrong code. %(num)d attempt left.", "Wrong code. %(num)d attempts left.", left
        )
    )


# Accounts -----------------------------------------------------------------------


def do_create_account(identifier, password, locale="ru"):
    """Create the account for a verified identifier (the profile comes next)."""
    with database.atomic():
        if User.by_identifier(identifier.value) is not None:
            raise AuthError(_l("An account with this phone or email already exists. Sign in instead."))
        fields = {
            identifier.kind: identifier.value,
            "password_hash": hash_password(password),
            "locale": locale,
        }
        return User.create(**fields)


def check_sign_in(identifier, password):
    """The account for these credentials, or AuthError that does not say which was wrong."""
    user = User.by_identifier(identifier.value)
    if user is None:
        password_hasher.hash(password)  # spend the same time as for a real account
        raise AuthError(_l("Wrong phone, email or password."))
    if not password_matches(user, password):
        User.update(failed_signins=User.failed_signins + 1).where(User.id == user.id).execute()
        raise AuthError(_l("Wrong phone, email or password."))
    return user


def sign_in_needs_code(user):
    """After several wrong passwords the right one alone is not enough: a code is asked too."""
    return user.failed_signins >= RISKY_FAILED_SIGNINS


def do_signed_in(user):
    User.update(failed_signins=0).where(User.id == user.id).execute()


def do_reset_password(identifier, password):
    """Set a new password and end the account's other sessions."""
    with database.atomic():
        user = User.by_identifier(identifier.value)
        if user is None:
            raise AuthError(_l("This code no longer works. Request a new one."))
        User.update(
            password_hash=hash_password(password),
            failed_signins=0,
            session_epoch=User.session_epoch + 1,
        ).where(User.id == user.id).execute()
        return User.get_by_id(user.id)


def do_update_profile(user, data):
    with database.atomic():
        for field in ("first_name", "last_name", "patronymic", "gender", "birth_date"):
            setattr(user, field, data[field])
        user.save()
    return user


def do_set_locale(user, locale):
    User.update(locale=locale).where(User.id == user.id).execute()
