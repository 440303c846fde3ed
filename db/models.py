"""Parta's tables. Each change to them comes with a migration in db/migrations/."""
import datetime as dt
import itertools

from flask_login import UserMixin
from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from db import database


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(UserMixin, BaseModel):
    """One account per person for the whole platform, by phone or by email."""

    phone = CharField(max_length=16, null=True, unique=True)  # E.164
    email = CharField(max_length=254, null=True, unique=True)  # lower case
    password_hash = CharField(max_length=255)
    first_name = CharField(max_length=64, default="")
    last_name = CharField(max_length=64, default="")
    patronymic = CharField(max_length=64, default="")
    gender = CharField(max_length=1, default="")  # "f", "m" or ""
    birth_date = DateField(null=True)
    locale = CharField(max_length=5, default="ru")
    failed_signins = IntegerField(default=0)
    session_epoch = IntegerField(default=0)
    is_operator = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    def get_id(self):
        # The epoch ends every other session when the password is reset.
        return f"{self.id}:{self.session_epoch}"

    @classmethod
    def by_identifier(cls, identifier):
        field = cls.email if "@" in identifier else cls.phone
        return cls.get_or_none(field == identifier)

    @property
    def profile_complete(self):
        return bool(self.first_name and self.last_name)

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short_name(self):
        """«Вадим Ж.»: what a person who holds the phone may see of its account."""
        initial = f" {self.last_name[0]}." if self.last_name else ""
        return f"{self.first_name}{initial}".strip()

    def schools(self):
        return (
            School.select()
            .join(Membership)
            .where(Membership.user == self)
            .distinct()
            .order_by(School.short_name)
        )


class OneTimeCode(BaseModel):
    """A code sent to prove that a person holds a phone or a mailbox.

    Only an HMAC of the code is stored; a code dies when used, after its last
    allowed wrong try, when it expires, or when a newer one is sent.
    """

    identifier = CharField(max_length=254)
    purpose = CharField(max_length=16)  # signup, reset, signin
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)
    revoked = BooleanField(default=False)

    class Meta:
        indexes = ((("identifier", "purpose"), False),)

    @classmethod
    def latest(cls, identifier, purpose):
        return (
            cls.select()
            .where((cls.identifier == identifier) & (cls.purpose == purpose))
            .order_by(cls.created_at.desc(), cls.id.desc())
            .first()
        )


class School(BaseModel):
    full_name = CharField(max_length=255)
    short_name = CharField(max_length=128)
    country = CharField(max_length=64, default="Россия")
    region = CharField(max_length=128, default="")
    city = CharField(max_length=128)
    description = TextField(default="")
    phone = CharField(max_length=16, default="")
    email = CharField(max_length=254, default="")
    address = CharField(max_length=255, default="")
    created_at = DateTimeField(default=utcnow)

    def classes_in_order(self):
        """«5Б», «7А», «11А»: by year, then by letter, not as plain strings."""
        classes = SchoolClass.select().where(SchoolClass.school == self)
        return sorted(classes, key=SchoolClass.sort_key)

    @property
    def locality(self):
        if self.region and self.region != self.city:
            return f"{self.city}, {self.region}"
        return self.city

    def participant_count(self):
        return (
            Membership.select(Membership.user)
            .where(Membership.school == self)
            .distinct()
            .count()
        )

    def memberships_in_order(self):
        return (
            Membership.select(Membership, User, SchoolClass)
            .join(User)
            .switch(Membership)
            .join(SchoolClass, JOIN.LEFT_OUTER)
            .where(Membership.school == self)
            .order_by(User.last_name, User.first_name, Membership.role)
        )

    def leaders(self):
        return (
            Membership.select(Membership, User)
            .join(User)
            .where((Membership.school == self) & (Membership.position != ""))
            .order_by(User.last_name)
        )

    def staff(self):
        """Administrators and teachers, one membership per person (for choosing a leader)."""
        rows = (
            Membership.select(Membership, User)
            .join(User)
            .where(
                (Membership.school == self)
                & Membership.role.in_([Membership.ADMIN, Membership.TEACHER])
            )
            .order_by(User.last_name, User.first_name, Membership.id)
        )
        seen = set()
        return [m for m in rows if not (m.user_id in seen or seen.add(m.user_id))]

    def people(self, role):
        return (
            User.select()
            .join(Membership)
            .where((Membership.school == self) & (Membership.role == role))
            .distinct()
            .order_by(User.last_name, User.first_name)
        )


class SchoolClass(BaseModel):
    school = ForeignKeyField(School, backref="classes", on_delete="CASCADE")
    name = CharField(max_length=32)  # «7А»
    profile = CharField(max_length=128, default="")  # «социально-гуманитарный»
    class_teacher = ForeignKeyField(User, null=True, on_delete="SET NULL")
    sourced_id = CharField(max_length=255, null=True)  # from a OneRoster import

    class Meta:
        indexes = ((("school", "name"), True),)

    def sort_key(self):
        digits = "".join(itertools.takewhile(str.isdigit, self.name))
        return (int(digits) if digits else 0, self.name[len(digits):])


class Membership(BaseModel):
    """A role a person holds in a school; a teacher has one row per class taught."""

    ADMIN, TEACHER, STUDENT, PARENT = "admin", "teacher", "student", "parent"

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    school = ForeignKeyField(School, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=16)
    school_class = ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
    subject = CharField(max_length=128, default="")
    position = CharField(max_length=128, default="")  # a leader's post: «Директор»
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "school", "role", "school_class", "subject"), True),)

    @classmethod
    def of(cls, user, school):
        return cls.select().where((cls.user == user) & (cls.school == school))

    @classmethod
    def holds(cls, user, role):
        """Whether ``user`` holds ``role`` in any school."""
        return cls.select().where((cls.user == user) & (cls.role == role)).exists()

    @classmethod
    def admins_of(cls, school):
        return cls.select().where((cls.school == school) & (cls.role == cls.ADMIN))


class SchoolApplication(BaseModel):
    """A request to register a school, decided by the platform operator (SPEC §2)."""

    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"

    full_name = CharField(max_length=255)
    short_name = CharField(max_length=128)
    country = CharField(max_length=64, default="Россия")
    region = CharField(max_length=128)
    city = CharField(max_length=128)
    admin_name = CharField(max_length=200)
    admin_phone = CharField(max_length=16)  # E.164
    admin_email = CharField(max_length=254)
    applicant = ForeignKeyField(User, null=True, on_delete="SET NULL")
    status = CharField(max_length=16, default=PENDING)
    reason = TextField(default="")
    school = ForeignKeyField(School, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    decided_at = DateTimeField(null=True)


class Invitation(BaseModel):
    """An invitation link: whoever follows it files a join request, never a membership.

    The link's token is derived (HMAC of SECRET_KEY and ``nonce``) so that its maker
    can copy it again; the database keeps only the nonce and the token's SHA-256.
    """

    school = ForeignKeyField(School, backref="invitations", on_delete="CASCADE")
    role = CharField(max_length=16)  # Membership.TEACHER or Membership.STUDENT (or ADMIN)
    school_class = ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
    created_by = ForeignKeyField(User, on_delete="CASCADE")
    nonce = CharField(max_length=32)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    max_uses = IntegerField(null=True)
    uses = IntegerField(default=0)
    revoked_at = DateTimeField(null=True)


class JoinRequest(BaseModel):
    """A person asks to join a school (and class) in a role; somebody decides."""

    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"

    user = ForeignKeyField(User, backref="join_requests", on_delete="CASCADE")
    school = ForeignKeyField(School, backref="join_requests", on_delete="CASCADE")
    role = CharField(max_length=16)
    school_class = ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
    subjects = CharField(max_length=255, default="")  # a teacher's subjects, comma-separated
    invitation = ForeignKeyField(Invitation, null=True, on_delete="SET NULL")
    status = CharField(max_length=16, default=PENDING)
    reason = TextField(default="")
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    decided_at = DateTimeField(null=True)


class ParentInvitation(BaseModel):
    """A student's link for their parents (SPEC §4); token derived as for Invitation."""

    student = ForeignKeyField(User, on_delete="CASCADE")
    nonce = CharField(max_length=32)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    @classmethod
    def live_for(cls, student):
        return (
            cls.select()
            .where((cls.student == student) & cls.revoked_at.is_null())
            .order_by(cls.id.desc())
            .first()
        )


class ParentLink(BaseModel):
    """A parent and a child; ``confirmed_at`` is set by «Подтвердить регистрацию ребёнка»."""

    MAX_PER_CHILD = 2

    parent = ForeignKeyField(User, on_delete="CASCADE")
    child = ForeignKeyField(User, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    confirmed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("parent", "child"), True),)

    @classmethod
    def count_for(cls, child):
        return cls.select().where(cls.child == child).count()


class Notification(BaseModel):
    """An in-app notice: a decision on a request, a new request to decide, …"""

    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=32)
    text = TextField()  # already in the recipient's language when written
    link = CharField(max_length=255, default="")
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)


class RosterPerson(BaseModel):
    """A person from an imported OneRoster file, waiting to sign up (or already matched)."""

    school = ForeignKeyField(School, on_delete="CASCADE")
    sourced_id = CharField(max_length=255)
    role = CharField(max_length=16)  # Membership roles
    given_name = CharField(max_length=64, default="")
    family_name = CharField(max_length=64, default="")
    middle_name = CharField(max_length=64, default="")
    phone = CharField(max_length=16, null=True)
    email = CharField(max_length=254, null=True)
    class_sourced_ids = TextField(default="")  # comma-separated
    agent_sourced_ids = TextField(default="")  # a student's parents, comma-separated
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school", "sourced_id"), True),)
