"""Classes of a school: the list, a class page, its teachers and class teacher (SPEC §5)."""
import re

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from peewee import fn
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from blueprints.schools.access import (
    access_class,
    access_school,
    access_school_admin,
    is_admin,
    pickable_teachers,
)
from blueprints.schools.actions import do_add_membership
from blueprints.schools.routes import bp
from db import database
from db.models import Membership, SchoolClass, User

CLASS_NAME = re.compile(r"^(?:[1-9]|1[01])[А-ЯЁ]$")
SUBJECT_MAX = 128


class ClassError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def school_teachers(school):
    return list(school.people(Membership.TEACHER))


# Actions -------------------------------------------------------------------------------


def normalize_class_name(raw):
    return re.sub(r"[\s\-]", "", raw or "").upper()


def check_class_name(school, name):
    if not CLASS_NAME.match(name):
        raise ClassError(
            _l("A class name is a year from 1 to 11 and a Cyrillic letter, for example 7А.")
        )
    if SchoolClass.select().where((SchoolClass.school == school) & (SchoolClass.name == name)).exists():
        raise ClassError(_l("The school already has class %(name)s.", name=name))


def do_create_class(school, name):
    with database.atomic():
        check_class_name(school, name)
        return SchoolClass.create(school=school, name=name)


def check_add_teacher(actor, school, teacher_id):
    """The teacher ``actor`` may add to a class: 403 for anyone else."""
    for teacher in pickable_teachers(actor, school):
        if teacher.id == teacher_id:
            return teacher
    abort(403)


def do_add_teacher(school_class, teacher, subject):
    """Returns False when the teacher already teaches this subject in the class."""
    with database.atomic():
        taught = Membership.select(Membership.subject).where(
            (Membership.user == teacher)
            & (Membership.school_class == school_class)
            & (Membership.role == Membership.TEACHER)
        )
        # Compared here, not in SQL: SQLite's LOWER() leaves Cyrillic as it is.
        if any(m.subject.casefold() == subject.casefold() for m in taught):
            return False
        do_add_membership(teacher, school_class.school, Membership.TEACHER, school_class, subject)
        return True


def do_set_class_teacher(school_class, teacher):
    with database.atomic():
        SchoolClass.update(class_teacher=teacher).where(SchoolClass.id == school_class.id).execute()


# Queries for the pages ---------------------------------------------------------------------


def class_counts(school, role):
    rows = (
        Membership.select(Membership.school_class, fn.COUNT(fn.DISTINCT(Membership.user)).alias("n"))
        .where((Membership.school == school) & (Membership.role == role) & Membership.school_class.is_null(False))
        .group_by(Membership.school_class)
        .tuples()
    )
    return dict(rows)


def class_teachers(school_class):
    """[(teacher, [subjects])] in name order."""
    rows = (
        Membership.select(Membership, User)
        .join(User)
        .where((Membership.school_class == school_class) & (Membership.role == Membership.TEACHER))
        .order_by(User.last_name, User.first_name, Membership.subject)
    )
    teachers = {}
    for row in rows:
        teachers.setdefault(row.user.id, (row.user, []))[1].append(row.subject)
    return [(user, [s for s in subjects if s]) for user, subjects in teachers.values()]


def class_students(school_class):
    return list(
        User.select()
        .join(Membership)
        .where((Membership.school_class == school_class) & (Membership.role == Membership.STUDENT))
        .distinct()
        .order_by(User.last_name, User.first_name)
    )


# Forms -----------------------------------------------------------------------------------


class ClassForm(FlaskForm):
    name = StringField(
        _l("Class"),
        validators=[DataRequired(_l("Enter the class, for example 7А.")), Length(max=8)],
        filters=[normalize_class_name],
        render_kw={"placeholder": "7А", "autocomplete": "off"},
    )


class TeacherChoiceField(SelectField):
    def pre_validate(self, form):
        pass  # who may be picked is decided by check_add_teacher / the school's teachers


class AddTeacherForm(FlaskForm):
    teacher = TeacherChoiceField(_l("Teacher"), coerce=int)
    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(_l("Enter the subject, for example Математика.")),
            Length(max=SUBJECT_MAX, message=_l("At most %(max)d characters.", max=SUBJECT_MAX)),
        ],
        filters=[lambda v: " ".join(v.split()) if v else v],
        render_kw={"placeholder": _l("Mathematics")},
    )


class ClassTeacherForm(FlaskForm):
    teacher = TeacherChoiceField(_l("Class teacher"), coerce=int)

    def validate_teacher(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose a teacher of this school."))


def _add_teacher_form(school):
    form = AddTeacherForm()
    form.teacher.choices = [
        SelectChoice(t.id, t.full_name) for t in pickable_teachers(current_user, school)
    ]
    return form


def _class_teacher_form(school, school_class):
    form = ClassTeacherForm(teacher=school_class.class_teacher_id or 0)
    form.teacher.choices = [SelectChoice(0, _("No class teacher"))] + [
        SelectChoice(t.id, t.full_name) for t in school_teachers(school)
    ]
    return form


# Views -------------------------------------------------------------------------------------


def _classes_page(school, form, status=200):
    return (
        render_template(
            "schools/classes_list.html",
            school=school,
            classes=school.classes_in_order(),
            students=class_counts(school, Membership.STUDENT),
            teachers=class_counts(school, Membership.TEACHER),
            form=form if is_admin(current_user, school) else None,
        ),
        status,
    )


@bp.route("/schools/<int:school_id>/classes")
@login_required
def classes(school_id):
    school = access_school(current_user, school_id)
    return _classes_page(school, ClassForm(formdata=None))


@bp.route("/schools/<int:school_id>/classes/new", methods=["POST"])
@login_required
def class_create(school_id):
    school = access_school_admin(current_user, school_id)
    form = ClassForm()
    if form.validate_on_submit():
        try:
            school_class = do_create_class(school, form.name.data)
        except ClassError as refusal:
            form.name.errors.append(refusal.message)
        else:
            flash(_("Class %(name)s has been created.", name=school_class.name))
            return redirect(
                url_for("schools.class_page", school_id=school.id, class_id=school_class.id), code=303
            )
    return _classes_page(school, form)


def _class_page(school, school_class, add_form=None, teacher_form=None):
    from blueprints.chats import access as chat_access
    from blueprints.chats.actions import class_chats_for

    return render_template(
        "schools/classes_page.html",
        class_chats=class_chats_for(current_user, school_class),
        can_create_chat=chat_access.can_create_class_chat(current_user, school_class),
        school=school,
        school_class=school_class,
        teachers=class_teachers(school_class),
        students=class_students(school_class),
        add_form=add_form or _add_teacher_form(school),
        teacher_form=(teacher_form or _class_teacher_form(school, school_class))
        if is_admin(current_user, school)
        else None,
    )


@bp.route("/schools/<int:school_id>/classes/<int:class_id>")
@login_required
def class_page(school_id, class_id):
    school, school_class = access_class(current_user, school_id, class_id)
    return _class_page(school, school_class)


@bp.route("/schools/<int:school_id>/classes/<int:class_id>/teachers", methods=["POST"])
@login_required
def class_add_teacher(school_id, class_id):
    school, school_class = access_class(current_user, school_id, class_id)
    if not pickable_teachers(current_user, school):
        abort(403)
    form = _add_teacher_form(school)
    if form.validate_on_submit():
        teacher = check_add_teacher(current_user, school, form.teacher.data)
        if do_add_teacher(school_class, teacher, form.subject.data):
            flash(
                _(
                    "%(name)s teaches %(subject)s in %(class)s.",
                    name=teacher.full_name,
                    subject=form.subject.data,
                    **{"class": school_class.name},
                )
            )
        else:
            flash(_("This teacher already teaches this subject in the class."))
        return redirect(url_for("schools.class_page", school_id=school.id, class_id=class_id), code=303)
    return _class_page(school, school_class, add_form=form)


@bp.route("/schools/<int:school_id>/classes/<int:class_id>/class-teacher", methods=["POST"])
@login_required
def class_set_teacher(school_id, class_id):
    school = access_school_admin(current_user, school_id)
    school, school_class = access_class(current_user, school.id, class_id)
    form = _class_teacher_form(school, school_class)
    if form.validate_on_submit():
        teacher = User.get_by_id(form.teacher.data) if form.teacher.data else None
        do_set_class_teacher(school_class, teacher)
        flash(_("The class teacher has been saved."))
        return redirect(url_for("schools.class_page", school_id=school.id, class_id=class_id), code=303)
    return _class_page(school, school_class, teacher_form=form)
