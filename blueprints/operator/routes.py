"""The platform operator's area: school applications (support questions come later).

Every page here is the operator's only: ``require_operator`` answers 404 to everyone
else, signed in or not, so the area does not even show that it exists.
"""
import click
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints.operator import actions
from blueprints.operator.actions import ApplicationError, EmailNotSent
from blueprints.pagination import after_id, render_list
from blueprints.schools.access import require_operator
from db import database
from db.models import SchoolApplication

# cli_group=None: the command is `flask create-operator`, not `flask operator create-operator`.
bp = Blueprint("operator", __name__, url_prefix="/operator", cli_group=None)

REASON_MAX = 1000


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why the application is rejected: the applicant will read it.")),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX)),
        ],
        filters=[lambda v: v.strip() if v else v],
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )


@bp.before_request
def only_operators():
    require_operator(current_user)


@bp.app_context_processor
def operator_context():
    """``pending_school_applications`` for the operator's menu badge (0 for everyone else)."""
    if current_user.is_authenticated and current_user.is_operator:
        return {"pending_school_applications": actions.pending_count()}
    return {"pending_school_applications": 0}


def _application_or_404(application_id):
    application = SchoolApplication.get_or_none(SchoolApplication.id == application_id)
    if application is None:
        abort(404)
    return application


@bp.route("/applications")
def applications():
    pending, decided = actions.applications_in_order(after_id())
    return render_list(
        "operator/applications.html", "operator/_decided.html", "decided", pending=pending, decided=decided
    )


def _render_application(application, reject_form=None, status=200):
    return (
        render_template(
            "operator/application.html",
            application=application,
            admin_account=actions.existing_admin_account(application),
            reject_form=reject_form or RejectForm(),
        ),
        status,
    )


@bp.route("/applications/<int:application_id>")
def application(application_id):
    return _render_application(_application_or_404(application_id))


def _after_decision(application, done_message, action):
    try:
        action()
    except EmailNotSent as warning:
        flash(done_message)
        flash(str(warning.message), "error")
    except ApplicationError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(done_message)
    return redirect(url_for("operator.application", application_id=application.id), code=303)


@bp.route("/applications/<int:application_id>/accept", methods=["POST"])
def accept_application(application_id):
    application = _application_or_404(application_id)
    return _after_decision(
        application,
        _("The application is accepted: «%(school)s» is created.", school=application.short_name),
        lambda: actions.do_accept_application(application),
    )


@bp.route("/applications/<int:application_id>/reject", methods=["POST"])
def reject_application(application_id):
    application = _application_or_404(application_id)
    form = RejectForm()
    if not form.validate_on_submit():
        if application.status != SchoolApplication.PENDING:
            flash(_("This application has already been decided: nothing was changed."), "error")
            return redirect(
                url_for("operator.application", application_id=application.id), code=303
            )
        return _render_application(application, reject_form=form)
    return _after_decision(
        application,
        _("The application is rejected; the applicant is told the reason."),
        lambda: actions.do_reject_application(application, form.reason.data),
    )


@bp.cli.command("create-operator")
@click.argument("identifier")
@click.option("--revoke", is_flag=True, help="Take the operator's rights away instead.")
def create_operator(identifier, revoke):
    """Make the account with this phone or email the platform operator (it must exist)."""
    # The server's administrator reads English here, whatever a browser would have chosen.
    with database.connection_context(), force_locale("en"):
        try:
            user = actions.do_set_operator(identifier, is_operator=not revoke)
        except ApplicationError as refusal:
            raise click.ClickException(str(refusal.message)) from None
    who = user.full_name or user.phone or user.email
    if revoke:
        click.echo(f"{who} is no longer an operator.")
    else:
        click.echo(f"{who} is now an operator: the school applications are at /operator/applications.")


from blueprints.operator import questions  # noqa: E402,F401  (its routes join bp)
