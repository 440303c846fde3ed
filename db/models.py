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
    DeferredForeignKey,
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


class Chat(BaseModel):
    """A conversation in a school (SPEC §5, §6): a class's, a group's, or two people's."""

    CLASS, GROUP, PERSONAL = "class", "group", "personal"

    school = ForeignKeyField(School, backref="chats", on_delete="CASCADE")
    kind = CharField(max_length=16)
    name = CharField(max_length=128, default="")
    school_class = ForeignKeyField(SchoolClass, null=True, on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    is_public = BooleanField(default=False)  # listed among the school's public chats
    teachers_only = BooleanField(default=False)  # only teachers and administrators write
    personal_key = CharField(max_length=32, null=True, unique=True)  # "<low id>:<high id>"
    last_message_id = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def public_in(cls, school):
        return (
            cls.select()
            .where((cls.school == school) & cls.is_public)
            .order_by(cls.last_message_id.desc(), cls.id.desc())
        )


class ChatMember(BaseModel):
    chat = ForeignKeyField(Chat, backref="members", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="chat_memberships", on_delete="CASCADE")
    last_read_id = IntegerField(default=0)  # the newest message this person has seen
    joined_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("chat", "user"), True), (("user", "chat"), False))

    @classmethod
    def of(cls, chat, user):
        if not user.is_authenticated:
            return None
        return cls.get_or_none((cls.chat == chat) & (cls.user == user))


class Message(BaseModel):
    TEXT, ANNOUNCEMENT, POLL = "text", "announcement", "poll"

    chat = ForeignKeyField(Chat, backref="messages", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    client_id = CharField(max_length=64)  # made by the sender; resending it changes nothing
    kind = CharField(max_length=16, default=TEXT)
    body = TextField(default="")
    reply_to = ForeignKeyField("self", null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    edited_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("author", "client_id"), True), (("chat", "id"), False))

    @property
    def is_deleted(self):
        return self.deleted_at is not None


class Attachment(BaseModel):
    """A file or picture sent with a message; stored under instance/uploads/."""

    IMAGE, FILE = "image", "file"

    message = ForeignKeyField(Message, backref="attachments", on_delete="CASCADE")
    kind = CharField(max_length=8)
    name = CharField(max_length=255)  # the name it was sent with, for the download
    content_type = CharField(max_length=128)
    size = IntegerField()
    path = CharField(max_length=255)  # relative to the uploads folder
    thumb_path = CharField(max_length=255, null=True)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    thumb_width = IntegerField(null=True)
    thumb_height = IntegerField(null=True)


class Poll(BaseModel):
    """A poll in a chat message or in an article: exactly one of ``message`` and ``article``."""

    message = ForeignKeyField(Message, backref="polls", null=True, unique=True, on_delete="CASCADE")
    article = DeferredForeignKey("Article", backref="polls", null=True, unique=True, on_delete="CASCADE")
    question = CharField(max_length=300)
    background = CharField(max_length=16, default="")
    anonymous = BooleanField(default=False)
    multiple = BooleanField(default=False)
    retractable = BooleanField(default=True)
    ends_at = DateTimeField(null=True)


class PollOption(BaseModel):
    poll = ForeignKeyField(Poll, backref="options", on_delete="CASCADE")
    text = CharField(max_length=200)
    position = IntegerField(default=0)


class PollVote(BaseModel):
    poll = ForeignKeyField(Poll, backref="votes", on_delete="CASCADE")
    option = ForeignKeyField(PollOption, backref="votes", on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("option", "user"), True), (("poll", "user"), False))


class MessageReport(BaseModel):
    """A member tells the school's administrators about a message."""

    message = ForeignKeyField(Message, backref="reports", on_delete="CASCADE")
    reporter = ForeignKeyField(User, on_delete="CASCADE")
    reason = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("message", "reporter"), True),)


class Folder(BaseModel):
    """A folder of school documents (``school`` set) or of «Мои документы» (``owner`` set)."""

    school = ForeignKeyField(School, null=True, on_delete="CASCADE")
    owner = ForeignKeyField(User, null=True, on_delete="CASCADE")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="CASCADE")
    name = CharField(max_length=128)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school", "parent"), False), (("owner", "parent"), False))


class Document(BaseModel):
    """A file in a school's documents or in someone's «Мои документы»; stored under instance/uploads/."""

    school = ForeignKeyField(School, null=True, on_delete="CASCADE")
    owner = ForeignKeyField(User, null=True, on_delete="CASCADE")
    folder = ForeignKeyField(Folder, null=True, backref="documents", on_delete="CASCADE")
    name = CharField(max_length=255)  # the name it was uploaded with, for the download
    content_type = CharField(max_length=128)
    size = IntegerField()
    path = CharField(max_length=255)  # relative to the uploads folder
    thumb_path = CharField(max_length=255, null=True)
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school", "folder"), False), (("owner", "folder"), False))

    @property
    def is_picture(self):
        return self.thumb_path is not None

    @property
    def opens_in_browser(self):
        return self.is_picture or self.content_type == "application/pdf"


# Help centre, support questions, appeals to a school, feedback (SPEC §11) ------------------


class SupportQuestion(BaseModel):
    """A question to the platform's support: from an account, or from a guest by email."""

    WAITING, ANSWERED = "waiting", "answered"  # waiting: the next word is support's

    user = ForeignKeyField(User, null=True, backref="support_questions", on_delete="CASCADE")
    email = CharField(max_length=254, default="")  # a guest's address for the answer
    token_nonce = CharField(max_length=32, null=True)  # a guest's secret link (schools/tokens.py)
    token_hash = CharField(max_length=64, null=True, unique=True)
    locale = CharField(max_length=5, default="ru")  # the language a guest's emails are written in
    section = CharField(max_length=64, default="")  # the help section it was asked from
    subject = CharField(max_length=200)
    steps = TextField(default="")  # what the person did before the error
    status = CharField(max_length=16, default=WAITING)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("status", "updated_at"), False),)


class SupportMessage(BaseModel):
    question = ForeignKeyField(SupportQuestion, backref="messages", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")  # None: a guest
    from_support = BooleanField(default=False)
    text = TextField()
    created_at = DateTimeField(default=utcnow)


class SupportScreenshot(BaseModel):
    """A picture sent with a support message; stored under instance/uploads/support/."""

    message = ForeignKeyField(SupportMessage, backref="screenshots", on_delete="CASCADE")
    name = CharField(max_length=255)
    content_type = CharField(max_length=128)
    size = IntegerField()
    path = CharField(max_length=255)
    thumb_path = CharField(max_length=255)
    thumb_width = IntegerField()
    thumb_height = IntegerField()


class Appeal(BaseModel):
    """«Обращение в школу»: a member writes to the school's administration."""

    WAITING, ANSWERED = "waiting", "answered"

    school = ForeignKeyField(School, backref="appeals", on_delete="CASCADE")
    author = ForeignKeyField(User, backref="appeals", on_delete="CASCADE")
    subject = CharField(max_length=200)
    status = CharField(max_length=16, default=WAITING)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school", "updated_at"), False),)


class AppealMessage(BaseModel):
    appeal = ForeignKeyField(Appeal, backref="messages", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    from_school = BooleanField(default=False)  # written by an administrator for the school
    text = TextField()
    created_at = DateTimeField(default=utcnow)


class Feedback(BaseModel):
    """What a person thinks Parta lacks or does badly, for the operator."""

    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    text = TextField()
    created_at = DateTimeField(default=utcnow)


class Article(BaseModel):
    """An article of a school (SPEC §9): a draft its author and the administrators see,
    or published in the school's Articles. ``body_html`` is stored sanitized."""

    DRAFT, PUBLISHED = "draft", "published"

    school = ForeignKeyField(School, backref="articles", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    title = CharField(max_length=200)
    body_html = TextField(default="")
    body_text = TextField(default="")  # the text of body_html, for search and previews
    cover_path = CharField(max_length=255, null=True)  # relative to the uploads folder
    cover_thumb_path = CharField(max_length=255, null=True)
    cover_display_path = CharField(max_length=255, null=True)  # WebP at the size it is shown
    cover_width = IntegerField(null=True)
    cover_height = IntegerField(null=True)
    status = CharField(max_length=16, default=DRAFT)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    published_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("school", "status", "published_at"), False),)

    @property
    def is_published(self):
        return self.status == self.PUBLISHED

    @classmethod
    def published_in(cls, school):
        return (
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER)
            .where((cls.school == school) & (cls.status == cls.PUBLISHED))
            .order_by(cls.published_at.desc(), cls.id.desc())
        )


class ArticleFile(BaseModel):
    """A picture or video of an article: an illustration in its text (uploaded by the
    editor before the article is saved, so ``article`` is empty until then), an attached
    photo, or an attached video."""

    ILLUSTRATION, PHOTO, VIDEO = "illustration", "photo", "video"

    school = ForeignKeyField(School, on_delete="CASCADE")
    article = ForeignKeyField(Article, null=True, backref="files", on_delete="CASCADE")
    uploader = ForeignKeyField(User, null=True, on_delete="SET NULL")
    kind = CharField(max_length=16)
    name = CharField(max_length=255)
    content_type = CharField(max_length=128)
    size = IntegerField()
    path = CharField(max_length=255)
    thumb_path = CharField(max_length=255, null=True)
    display_path = CharField(max_length=255, null=True)  # WebP at the size it is shown (pictures)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    created_at = DateTimeField(default=utcnow)


class Lesson(BaseModel):
    """A video lesson (SPEC §7): started from a chat, which is also its call chat, by a
    teacher or an administrator; running until its host ends it or the last person leaves."""

    LESSON, BROADCAST, PARENT_MEETING = "lesson", "broadcast", "parent_meeting"
    MAX_PARTICIPANTS = 100

    school = ForeignKeyField(School, on_delete="CASCADE")
    chat = ForeignKeyField(Chat, backref="lessons", on_delete="CASCADE")
    host = ForeignKeyField(User, on_delete="CASCADE")
    kind = CharField(max_length=16, default=LESSON)
    mics_allowed = BooleanField(default=True)  # students may turn their microphones on
    cameras_allowed = BooleanField(default=True)
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("chat", "ended_at"), False),)

    @property
    def is_running(self):
        return self.ended_at is None

    @property
    def parents_may_listen(self):
        return self.kind in (self.BROADCAST, self.PARENT_MEETING)


class LessonParticipant(BaseModel):
    """Someone in a lesson, now (``left_at`` empty) or before; their hand and media state."""

    HOST, STUDENT, LISTENER = "host", "student", "listener"

    lesson = ForeignKeyField(Lesson, backref="participants", on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    role = CharField(max_length=16)
    joined_at = DateTimeField(default=utcnow)
    left_at = DateTimeField(null=True)
    removed = BooleanField(default=False)  # removed by the host: may not come back
    hand_raised_at = DateTimeField(null=True)
    audio_on = BooleanField(default=False)
    video_on = BooleanField(default=False)
    invited = BooleanField(default=False)

    class Meta:
        indexes = ((("lesson", "user"), True), (("lesson", "left_at"), False))
