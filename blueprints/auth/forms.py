"""The account forms. Each field says what is wrong with it in the person's language."""
import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from blueprints.auth.actions import (
    PASSWORD_MAX_LENGTH,
    AuthError,
    check_password,
    parse_identifier,
)

NAME_PATTERN = re.compile(r"^[^\W\d_]+(?:[ '’\-.][^\W\d_]+)*\.?$")
NAME_MAX = 64


class IdentifierForm(FlaskForm):
    identifier = StringField(
        _l("Mobile phone or email"),
        validators=[DataRequired(_l("Enter your mobile phone number or email.")), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email", "autofocus": True},
    )
    parsed = None
    allow_email = True

    def validate_identifier(self, field):
        try:
            self.parsed = parse_identifier(field.data, allow_email=self.allow_email)
        except AuthError as error:
            raise ValidationError(str(error.message)) from None


class SignInForm(IdentifierForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Confirmation code"),
        validators=[DataRequired(_l("Enter the code from the message."))],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "maxlength": 7,
            "autofocus": True,
        },
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("Create a password"),
        validators=[DataRequired(_l("Enter a password."))],
        render_kw={"autocomplete": "new-password", "minlength": 8, "autofocus": True},
    )
    confirmation = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(_l("Repeat the password."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field):
        try:
            check_password(field.data or "")
        except AuthError as error:
            raise ValidationError(str(error.message)) from None

    def validate_confirmation(self, field):
        if self.password.data and not self.password.errors and field.data != self.password.data:
            raise ValidationError(_l("The passwords do not match."))


def _name_field(label, required=True):
    checks = [Length(max=NAME_MAX, message=_l("At most %(max)d characters.", max=NAME_MAX))]
    checks.insert(0, DataRequired(_l("Fill in this field.")) if required else Optional())
    return StringField(label, validators=checks, filters=[lambda v: v.strip() if v else v])


class ProfileForm(FlaskForm):
    first_name = _name_field(_l("First name"))
    last_name = _name_field(_l("Last name"))
    patronymic = _name_field(_l("Patronymic"), required=False)
    gender = SelectField(
        _l("Gender"),
        choices=[
            SelectChoice("", _l("Choose…")),
            SelectChoice("f", _l("Female")),
            SelectChoice("m", _l("Male")),
        ],
        validators=[DataRequired(_l("Choose one."))],
    )
    birth_date = DateField(
        _l("Date of birth"),
        format=["%Y-%m-%d", "%d.%m.%Y"],
        validators=[DataRequired(_l("Enter the date of birth, for example 22.07.1992."))],
    )

    def _check_name(self, field):
        if field.data and not NAME_PATTERN.match(field.data):
            raise ValidationError(_l("Use letters only: no digits or symbols."))

    validate_first_name = validate_last_name = validate_patronymic = _check_name

    def validate_birth_date(self, field):
        if field.data > dt.date.today():
            raise ValidationError(_l("The date of birth cannot be in the future."))
        if field.data < dt.date(1900, 1, 1):
            raise ValidationError(_l("Check the year of birth."))
