"""«Электронный дневник»: an administrator imports the school's OneRoster export (SPEC §3)."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from blueprints.schools.access import access_school_admin
from blueprints.schools.roster_import import MAX_UPLOAD_BYTES, RosterError, do_import_roster, roster_summary
from blueprints.schools.routes import bp


class RosterForm(FlaskForm):
    roster = FileField(
        _l("OneRoster file (.zip)"),
        validators=[FileRequired(_l("Choose a .zip file exported from the e-diary."))],
        render_kw={"accept": ".zip,application/zip"},
    )


def _result_key(school):
    return f"roster-result-{school.id}"


@bp.route("/schools/<int:school_id>/roster", methods=["GET", "POST"])
@login_required
def roster(school_id):
    school = access_school_admin(current_user, school_id)
    form = RosterForm()
    error = None
    # static/js/upload.js sends the file with a progress bar and reads the answer itself.
    by_script = request.headers.get("X-Upload") == "progress"
    if form.validate_on_submit():
        try:
            result = do_import_roster(school, form.roster.data.read())
        except RosterError as refusal:
            error = refusal.message
        else:
            session[_result_key(school)] = result.as_dict()
            flash(_("The roster has been imported."))
            if by_script:
                return {"next": url_for("schools.roster", school_id=school.id)}
            return redirect(url_for("schools.roster", school_id=school.id), code=303)
    page = render_template(
        "schools/roster_import.html",
        school=school,
        form=form,
        error=error,
        max_bytes=MAX_UPLOAD_BYTES,
        result=session.get(_result_key(school)),
        summary=roster_summary(school),
    )
    refused = by_script and (error or form.errors)
    return (page, 422) if refused else page
