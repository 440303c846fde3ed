"""A school's roster from its e-diary: OneRoster 1.1 CSV files in a zip (SPEC §3, way 1).

``check_roster`` reads and validates the whole file and raises ``RosterError``
naming the file, line and column at fault; ``do_import_roster`` writes it in one
transaction, then lets people already on Parta join at once.
"""
import csv
import io
import zipfile
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from blueprints.auth.actions import AuthError, parse_phone
from blueprints.schools.actions import do_add_membership, do_claim_roster_entries
from db import database
from db.models import Membership, RosterPerson, SchoolClass, User, utcnow

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_MEMBER_BYTES = 50 * 1024 * 1024  # unpacked, per CSV file: no zip bombs

ROLES = {
    "student": Membership.STUDENT,
    "teacher": Membership.TEACHER,
    "administrator": Membership.ADMIN,
    "parent": Membership.PARENT,
    "guardian": Membership.PARENT,
    "relative": Membership.PARENT,
}
ENROLLMENT_ROLES = {"student", "teacher", "administrator"}

REQUIRED = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "users.csv": ("sourcedId", "role", "givenName", "familyName"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
}
NAME_MAX = 64
CLASS_NAME_MAX = 32


class RosterError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class RosterClass:
    sourced_id: str
    name: str
    line: int
    column: str


@dataclass
class RosterUser:
    sourced_id: str
    role: str
    given_name: str
    family_name: str
    middle_name: str
    phone: str | None
    email: str | None
    agents: list
    classes: list = field(default_factory=list)


@dataclass
class Roster:
    classes: dict
    users: dict


@dataclass
class ImportResult:
    classes_created: int = 0
    classes_updated: int = 0
    people_added: int = 0
    people_updated: int = 0
    matched_now: int = 0
    not_in_file: int = 0

    def as_dict(self):
        return dict(self.__dict__)


def _at(name, line, column, problem):
    return RosterError(
        _l(
            "%(file)s, line %(line)d, column «%(column)s»: %(problem)s",
            file=name,
            line=line,
            column=column,
            problem=problem,
        )
    )


def _open_zip(data):
    if not data:
        raise RosterError(_l("Choose a .zip file exported from the e-diary."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise RosterError(_l("The file is larger than 5 MB. Export the roster of one school only."))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RosterError(
            _l("This is not a zip archive. Upload the OneRoster export (.zip) of the e-diary as it is.")
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise _damaged() from None


def _damaged():
    return RosterError(_l("The zip archive is damaged or encrypted: export it again."))


def _members(archive):
    """CSV files by their base name, wherever they sit in the archive."""
    found = {}
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1].lower()
        if base.endswith(".csv") and not info.is_dir():
            found.setdefault(base, info)
    return found


def _rows(archive, members, name):
    """(line, row) for each data row of ``name``, headers checked by name."""
    info = members.get(name)
    if info is None:
        raise RosterError(_l("The archive has no %(file)s: it is required.", file=name))
    if info.file_size > MAX_MEMBER_BYTES:
        raise RosterError(_l("%(file)s is too large.", file=name))
    try:
        raw = archive.read(info)  # declared sizes were checked: no zip bombs
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        raise _damaged() from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(_l("%(file)s is not in UTF-8: export it again in UTF-8.", file=name)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader, [])]
        for column in REQUIRED[name]:
            if column not in header:
                raise RosterError(
                    _l("%(file)s has no column «%(column)s»: it is required.", file=name, column=column)
                )
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(header):
                raise RosterError(
                    _l(
                        "%(file)s, line %(line)d: more values than columns in the header.",
                        file=name,
                        line=reader.line_num,
                    )
                )
            row = {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(header)}
            if row.get("status", "").lower() == "tobedeleted":
                continue
            rows.append((reader.line_num, row))
    except csv.Error:
        raise RosterError(
            _l("%(file)s, line %(line)d: the line is not valid CSV.", file=name, line=reader.line_num)
        ) from None
    return rows


def _ids(value):
    return [part.strip() for part in value.split(",") if part.strip()]


def _required(name, line, row, column):
    value = row[column]
    if not value:
        raise _at(name, line, column, _l("the value is empty."))
    return value


def _unique(name, line, column, value, seen):
    if value in seen:
        raise _at(
            name, line, column, _l("«%(value)s» is already on line %(other)d.", value=value, other=seen[value])
        )
    seen[value] = line


def _name(name, line, row, column, required=True):
    value = row.get(column, "")
    if required and not value:
        raise _at(name, line, column, _l("the value is empty."))
    if len(value) > NAME_MAX:
        raise _at(name, line, column, _l("at most %(max)d characters.", max=NAME_MAX))
    return value


def _contact(name, line, row, seen_phones, seen_emails):
    phone = None
    for column in ("sms", "phone"):
        raw = row.get(column, "")
        if not raw or phone:
            continue
        try:
            phone = parse_phone(raw)
        except AuthError as refusal:
            raise _at(name, line, column, refusal.message) from None
        _unique(name, line, column, phone, seen_phones)
    email = None
    if row.get("email"):
        try:
            email = validate_email(row["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise _at(name, line, "email", _l("this is not a valid email address.")) from None
        _unique(name, line, "email", email, seen_emails)
    return phone, email


def _read_classes(archive, members, orgs):
    classes, lines, names = {}, {}, {}
    for line, row in _rows(archive, members, "classes.csv"):
        sourced_id = _required("classes.csv", line, row, "sourcedId")
        _unique("classes.csv", line, "sourcedId", sourced_id, lines)
        if _required("classes.csv", line, row, "schoolSourcedId") not in orgs:
            raise _at("classes.csv", line, "schoolSourcedId", _l("there is no such organisation in orgs.csv."))
        column = "classCode" if row.get("classCode") else "title"
        class_name = _required("classes.csv", line, row, column).replace(" ", "")
        if len(class_name) > CLASS_NAME_MAX:
            raise _at("classes.csv", line, column, _l("at most %(max)d characters.", max=CLASS_NAME_MAX))
        _unique("classes.csv", line, column, class_name, names)
        classes[sourced_id] = RosterClass(sourced_id, class_name, line, column)
    return classes


def _read_users(archive, members):
    users, lines, phones, emails = {}, {}, {}, {}
    rows = _rows(archive, members, "users.csv")
    for line, row in rows:
        sourced_id = _required("users.csv", line, row, "sourcedId")
        _unique("users.csv", line, "sourcedId", sourced_id, lines)
        role = row["role"].lower()
        if role not in ROLES:
            raise _at(
                "users.csv",
                line,
                "role",
                _l("unknown role «%(role)s»: student, teacher, administrator, parent, guardian or relative expected.", role=row["role"]),
            )
        phone, email = _contact("users.csv", line, row, phones, emails)
        users[sourced_id] = RosterUser(
            sourced_id=sourced_id,
            role=ROLES[role],
            given_name=_name("users.csv", line, row, "givenName"),
            family_name=_name("users.csv", line, row, "familyName"),
            middle_name=_name("users.csv", line, row, "middleName", required=False),
            phone=phone,
            email=email,
            agents=_ids(row.get("agentSourcedIds", "")),
        )
    for line, row in rows:
        person = users[row["sourcedId"]]
        for agent in person.agents:
            if agent not in users or agent == person.sourced_id:
                raise _at(
                    "users.csv",
                    line,
                    "agentSourcedIds",
                    _l("there is no person «%(id)s» in users.csv.", id=agent),
                )
    _parents_of_students(users)
    return users


def _parents_of_students(users):
    """Both directions of agentSourcedIds end up on the student: the student's parents."""
    for person in users.values():
        if person.role == Membership.PARENT:
            for child_id in person.agents:
                child = users[child_id]
                if child.role == Membership.STUDENT and person.sourced_id not in child.agents:
                    child.agents.append(person.sourced_id)
    for person in users.values():
        if person.role != Membership.STUDENT:
            person.agents = []
        else:
            person.agents = [a for a in person.agents if users[a].role == Membership.PARENT]


def _read_enrollments(archive, members, classes, users):
    seen = {}
    for line, row in _rows(archive, members, "enrollments.csv"):
        _unique("enrollments.csv", line, "sourcedId", _required("enrollments.csv", line, row, "sourcedId"), seen)
        class_id = _required("enrollments.csv", line, row, "classSourcedId")
        if class_id not in classes:
            raise _at("enrollments.csv", line, "classSourcedId", _l("there is no class «%(id)s» in classes.csv.", id=class_id))
        user_id = _required("enrollments.csv", line, row, "userSourcedId")
        if user_id not in users:
            raise _at("enrollments.csv", line, "userSourcedId", _l("there is no person «%(id)s» in users.csv.", id=user_id))
        if row["role"].lower() not in ENROLLMENT_ROLES:
            raise _at(
                "enrollments.csv",
                line,
                "role",
                _l("unknown role «%(role)s»: student, teacher or administrator expected.", role=row["role"]),
            )
        if class_id not in users[user_id].classes:
            users[user_id].classes.append(class_id)


def check_roster(data):
    """The roster in ``data`` (the uploaded bytes), or RosterError at the first fault."""
    archive = _open_zip(data)
    members = _members(archive)
    orgs = {}
    for line, row in _rows(archive, members, "orgs.csv"):
        _unique("orgs.csv", line, "sourcedId", _required("orgs.csv", line, row, "sourcedId"), orgs)
    classes = _read_classes(archive, members, orgs)
    users = _read_users(archive, members)
    _read_enrollments(archive, members, classes, users)
    return Roster(classes=classes, users=users)


def _save_classes(school, roster, result):
    for entry in roster.classes.values():
        school_class = SchoolClass.get_or_none(
            (SchoolClass.school == school) & (SchoolClass.sourced_id == entry.sourced_id)
        )
        holder = SchoolClass.get_or_none((SchoolClass.school == school) & (SchoolClass.name == entry.name))
        if school_class is None and holder is not None and holder.sourced_id in (None, ""):
            school_class = holder  # a class made by hand before the first import
        elif holder is not None and holder != school_class:
            raise _at(
                "classes.csv",
                entry.line,
                entry.column,
                _l("the school already has another class «%(name)s».", name=entry.name),
            )
        if school_class is None:
            SchoolClass.create(school=school, name=entry.name, sourced_id=entry.sourced_id)
            result.classes_created += 1
        else:
            school_class.name = entry.name
            school_class.sourced_id = entry.sourced_id
            school_class.save()
            result.classes_updated += 1


def _save_people(school, roster, result):
    known = {p.sourced_id: p for p in RosterPerson.select().where(RosterPerson.school == school)}
    for person in roster.users.values():
        entry = known.get(person.sourced_id)
        if entry is None:
            entry = RosterPerson(school=school, sourced_id=person.sourced_id)
            result.people_added += 1
            old_classes = set()
        else:
            result.people_updated += 1
            old_classes = set(_ids(entry.class_sourced_ids))
        entry.role = person.role
        entry.given_name = person.given_name
        entry.family_name = person.family_name
        entry.middle_name = person.middle_name
        entry.phone = person.phone
        entry.email = person.email
        entry.class_sourced_ids = ",".join(person.classes)
        entry.agent_sourced_ids = ",".join(person.agents)
        entry.updated_at = utcnow()
        entry.save()
        if entry.user_id is not None:
            _join_new_classes(entry, set(person.classes) - old_classes)
    result.not_in_file = len(set(known) - set(roster.users))


def _join_new_classes(entry, class_ids):
    """A person who joined through an earlier import joins the classes added since."""
    if entry.role not in (Membership.STUDENT, Membership.TEACHER) or not class_ids:
        return
    classes = SchoolClass.select().where(
        (SchoolClass.school == entry.school_id) & SchoolClass.sourced_id.in_(list(class_ids))
    )
    user = User.get_by_id(entry.user_id)
    for school_class in classes:
        do_add_membership(user, entry.school, entry.role, school_class)


def _claim_for_existing_accounts(school, result):
    waiting = list(
        RosterPerson.select().where((RosterPerson.school == school) & RosterPerson.user.is_null())
    )
    phones = {p.phone for p in waiting if p.phone}
    emails = {p.email for p in waiting if p.email}
    if not phones and not emails:
        return
    accounts = User.select().where(User.phone.in_(list(phones)) | User.email.in_(list(emails)))
    for user in accounts:
        claimed = do_claim_roster_entries(user)
        result.matched_now += sum(1 for entry in claimed if entry.school_id == school.id)


def do_import_roster(school, data):
    """Validate and write the roster of ``school``; all or nothing. Returns ImportResult."""
    roster = check_roster(data)
    result = ImportResult()
    with database.atomic():
        _save_classes(school, roster, result)
        _save_people(school, roster, result)
        _claim_for_existing_accounts(school, result)
    return result


def roster_summary(school):
    """What the school's roster holds now, whoever imported it."""
    people = RosterPerson.select().where(RosterPerson.school == school)
    last = people.order_by(RosterPerson.updated_at.desc()).first()
    return {
        "people": people.count(),
        "joined": people.where(RosterPerson.user.is_null(False)).count(),
        "classes": SchoolClass.select()
        .where((SchoolClass.school == school) & SchoolClass.sourced_id.is_null(False))
        .count(),
        "updated_at": last.updated_at if last else None,
    }
