"""«Обращения в школу» (SPEC §11): in the school's menu for every member."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints.appeals import actions
from blueprints.appeals.access import access_appeal, access_appeals
from blueprints.appeals.actions import SUBJECT_MAX, TEXT_MAX
from blueprints.pagination import after_id, render_list
from blueprints.schools.access import is_admin

bp = Blueprint("appeals", __name__)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _length(limit):
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


class AppealForm(FlaskForm):
    subject = StringField(
        _l("Topic"),
        validators=[DataRequired(_l("Say in a few words what the appeal is about.")), _length(SUBJECT_MAX)],
        filters=[_strip],
        render_kw={"maxlength": SUBJECT_MAX},
    )
    text = TextAreaField(
        _l("Your appeal"),
        validators=[DataRequired(_l("Write your appeal.")), _length(TEXT_MAX)],
        filters=[_strip],
        render_kw={"rows": 5, "maxlength": TEXT_MAX},
    )


class AppealReplyForm(FlaskForm):
    text = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write a message.")), _length(TEXT_MAX)],
        filters=[_strip],
        render_kw={"rows": 4, "maxlength": TEXT_MAX},
    )


def _menu(school):
    from blueprints.schools.routes import _side_menu_context

    return _side_menu_context(school)


@bp.route("/schools/<int:school_id>/appeals", methods=["GET", "POST"])
@login_required
def index(school_id):
    school = access_appeals(current_user, school_id)
    admin = is_admin(current_user, school)
    form = AppealForm()
    if form.validate_on_submit():
        appeal = actions.do_appeal(current_user, school, form.subject.data, form.text.data)
        flash(_("Your appeal is sent to the school's administration."))
        return redirect(url_for("appeals.appeal", school_id=school.id, appeal_id=appeal.id), code=303)
    return render_list(
        "appeals/index.html",
        "appeals/_appeals.html",
        "appeals",
        status=400 if request.method == "POST" else 200,
        appeals=actions.appeals_for(current_user, school, admin, after_id()),
        form=form,
        admin=admin,
        **_menu(school),
    )


@bp.route("/schools/<int:school_id>/appeals/<int:appeal_id>", methods=["GET", "POST"])
@login_required
def appeal(school_id, appeal_id):
    school, appeal = access_appeal(current_user, school_id, appeal_id)
    form = AppealReplyForm()
    if form.validate_on_submit():
        actions.do_reply(appeal, current_user, form.text.data)
        flash(_("Your message is sent."))
        return redirect(url_for("appeals.appeal", school_id=school.id, appeal_id=appeal.id), code=303)
    return (
        render_template(
            "appeals/appeal.html",
            appeal=appeal,
            messages=actions.conversation(appeal),
            form=form,
            **_menu(school),
        ),
        400 if request.method == "POST" else 200,
    )
