"""Registering a school: an application to the platform operator (SPEC §2, seed [000]).

Open to everyone, signed in or not; the operator decides in /operator/applications.
"""
from email_validator import EmailNotValidError, validate_email
from flask import redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Length, ValidationError

from blueprints.auth.actions import AuthError, parse_phone
from blueprints.auth.forms import NAME_PATTERN
from blueprints.extensions import limiter
from blueprints.operator.actions import ApplicationError, do_submit_application
from blueprints.schools.routes import bp
from db.models import SchoolApplication

SENT = "school_application_sent"

# Counted only when an application is stored: mistakes on the form cost nothing.
submission_limit = limiter.limit(
    "5 per hour", methods=["POST"], deduct_when=lambda response: response.status_code == 303
)


def _strip(value):
    return " ".join(value.split()) if value else value


def _column_max(name):
    return getattr(SchoolApplication, name).max_length


def _text_field(label, column, default=None, **render_kw):
    limit = _column_max(column)
    return StringField(
        label,
        default=default,
        validators=[
            DataRequired(_l("Fill in this field.")),
            Length(max=limit, message=_l("At most %(max)d characters.", max=limit)),
        ],
        filters=[_strip],
        render_kw={"maxlength": limit, **render_kw},
    )


class ApplicationForm(FlaskForm):
    full_name = _text_field(_l("Full name of the school"), "full_name")
    short_name = _text_field(_l("Short name"), "short_name")
    country = _text_field(_l("Country"), "country", "Россия", autocomplete="country-name")
    region = _text_field(_l("Region"), "region", autocomplete="address-level1")
    city = _text_field(_l("Locality"), "city", autocomplete="address-level2")
    admin_name = _text_field(_l("Administrator's full name"), "admin_name", autocomplete="name")
    admin_phone = TelField(
        _l("Administrator's mobile phone"),
        validators=[DataRequired(_l("Enter the mobile phone number."))],
        filters=[_strip],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 32},
    )
    admin_email = EmailField(
        _l("Administrator's email"),
        validators=[DataRequired(_l("Enter the email address."))],
        filters=[_strip],
        render_kw={"autocomplete": "email", "maxlength": _column_max("admin_email")},
    )

    def validate_admin_name(self, field):
        words = field.data.split()
        if len(words) < 2:
            raise ValidationError(
                _l("Enter the last name and the first name, for example Иванова Мария Петровна.")
            )
        if not all(NAME_PATTERN.match(word) for word in words):
            raise ValidationError(_l("Use letters only: no digits or symbols."))

    def validate_admin_phone(self, field):
        try:
            field.data = parse_phone(field.data)
        except AuthError as error:
            raise ValidationError(str(error.message)) from None

    def validate_admin_email(self, field):
        try:
            email = validate_email(field.data, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise ValidationError(
                _l("This does not look like an email address: check it and try again.")
            ) from None
        if len(email) > _column_max("admin_email"):
            raise ValidationError(_l("At most %(max)d characters.", max=_column_max("admin_email")))
        field.data = email


def _prefill():
    """A signed-in applicant is most often the administrator: offer their own details."""
    if not current_user.is_authenticated:
        return {}
    return {
        "admin_name": current_user.full_name,
        "admin_phone": current_user.phone or "",
        "admin_email": current_user.email or "",
    }


@bp.route("/schools/apply", methods=["GET", "POST"])
@submission_limit
def apply():
    form = ApplicationForm(data=None if request.method == "POST" else _prefill())
    error = None
    if form.validate_on_submit():
        try:
            application = do_submit_application(form.data, current_user)
        except ApplicationError as refusal:
            error = refusal.message
        else:
            session[SENT] = application.id
            return redirect(url_for("schools.application_sent"), code=303)
    return render_template("schools/registration_apply.html", form=form, error=error)


@bp.route("/schools/apply/sent")
def application_sent():
    application = SchoolApplication.get_or_none(SchoolApplication.id == session.get(SENT))
    if application is None:
        return redirect(url_for("schools.apply"))
    return render_template("schools/registration_sent.html", application=application)
