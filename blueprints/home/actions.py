"""What the home page shows a person (SPEC §10): read-only queries, a few per page.

One page serves every role at once (a teacher who is also a parent sees both): its
sections come from the person's memberships, which one query loads. Lessons will add
their own section at the top and a call button to each taught class.
"""
from dataclasses import dataclass, field

from peewee import JOIN

from blueprints.chats.actions import chats_of, open_reports_count
from blueprints.schools.requests_actions import pending_requests_count
from db.models import Article, Chat, Membership, ParentLink, School, SchoolClass, User

CHATS_SHOWN = 4  # per group; «Показать все» leads to the rest

# The order of the desktop (SPEC §10): the school's chats, the classes', personal ones.
CHAT_GROUPS = (Chat.GROUP, Chat.CLASS, Chat.PERSONAL)


@dataclass
class ClassPlace:
    """A class on the home page, with its school; for a teacher, the subjects taught in it."""

    school: School
    school_class: SchoolClass
    subjects: list = field(default_factory=list)
    is_class_teacher: bool = False
    can_open: bool = True


@dataclass
class AdministeredSchool:
    school: School
    pending_requests: int
    open_reports: int


@dataclass
class Child:
    user: User
    places: list = field(default_factory=list)  # ClassPlace, or a school without a class


@dataclass
class ChatGroup:
    kind: str
    chats: list  # the most recently active CHATS_SHOWN
    total: int
    unread: int

    @property
    def hidden(self):
        return self.total - len(self.chats)


@dataclass
class Home:
    schools: list
    administered: list
    taught: list
    studied: list
    children: list
    chat_groups: list
    news: list

    @property
    def many_schools(self):
        """Rows name their school only for a person of several schools."""
        return len(self.schools) > 1

    @property
    def school_names(self):
        return {school.id: school.short_name for school in self.schools}


def memberships_of(user):
    """Every role ``user`` holds, with its school and class, in one query."""
    return list(
        Membership.select(Membership, School, SchoolClass)
        .join(School)
        .switch(Membership)
        .join(SchoolClass, JOIN.LEFT_OUTER)
        .where(Membership.user == user.id)
        .order_by(School.short_name, Membership.id)
    )


def _in_order(places):
    return sorted(places, key=lambda p: (p.school.short_name, *p.school_class.sort_key()))


def taught_classes(user, memberships):
    """The classes ``user`` teaches, each once with its subjects («Математика, Физика»)."""
    by_class = {}
    for m in memberships:
        if m.role != Membership.TEACHER or m.school_class_id is None:
            continue
        place = by_class.get(m.school_class_id)
        if place is None:
            place = by_class[m.school_class_id] = ClassPlace(
                m.school, m.school_class, is_class_teacher=m.school_class.class_teacher_id == user.id
            )
        if m.subject and m.subject not in place.subjects:
            place.subjects.append(m.subject)
    return _in_order(by_class.values())


def studied_classes(memberships):
    """The classes where the person studies."""
    places = {
        m.school_class_id: ClassPlace(m.school, m.school_class)
        for m in memberships
        if m.role == Membership.STUDENT and m.school_class_id is not None
    }
    return _in_order(places.values())


def administered_schools(user, memberships):
    """Schools ``user`` administers, with the requests and reports waiting there."""
    schools = {m.school_id: m.school for m in memberships if m.role == Membership.ADMIN}
    return [
        AdministeredSchool(school, pending_requests_count(user, school), open_reports_count(school))
        for school in schools.values()
    ]


def children_of(parent, memberships):
    """Confirmed children and where they study, in one query.

    A class links to its page only where the parent is a member of that school too: the
    class page's own rule (blueprints/schools/access.access_class).
    """
    own_schools = {m.school_id for m in memberships}
    Kid = User.alias()
    rows = (
        ParentLink.select(
            Kid.id.alias("child_id"), Kid.first_name, Kid.last_name, Kid.patronymic,
            School.id.alias("school_id"), School.short_name,
            SchoolClass.id.alias("class_id"), SchoolClass.name.alias("class_name"),
        )
        .join(Kid, on=(ParentLink.child == Kid.id))
        .join(
            Membership,
            JOIN.LEFT_OUTER,
            on=((Membership.user == Kid.id) & (Membership.role == Membership.STUDENT)),
        )
        .join(School, JOIN.LEFT_OUTER, on=(Membership.school == School.id))
        .join(SchoolClass, JOIN.LEFT_OUTER, on=(Membership.school_class == SchoolClass.id))
        .where((ParentLink.parent == parent.id) & ParentLink.confirmed_at.is_null(False))
        .order_by(Kid.first_name, Kid.id, Membership.id)
        .dicts()
    )
    children = {}
    for row in rows:
        child = children.get(row["child_id"])
        if child is None:
            user = User(id=row["child_id"], first_name=row["first_name"],
                        last_name=row["last_name"], patronymic=row["patronymic"])
            child = children[row["child_id"]] = Child(user)
        if row["school_id"] is None:
            continue
        school = School(id=row["school_id"], short_name=row["short_name"])
        school_class = None
        if row["class_id"] is not None:
            school_class = SchoolClass(id=row["class_id"], name=row["class_name"], school=school)
        child.places.append(ClassPlace(school, school_class, can_open=school.id in own_schools))
    return list(children.values())


def chat_groups(user):
    """The person's chats by kind, each group with its newest few and its unread total."""
    groups = {kind: [] for kind in CHAT_GROUPS}
    for chat in chats_of(user):
        groups.setdefault(chat.kind, []).append(chat)
    return [
        ChatGroup(kind, chats[:CHATS_SHOWN], len(chats), sum(c.unread for c in chats))
        for kind, chats in groups.items()
        if chats
    ]


def home_of(user):
    memberships = memberships_of(user)
    return Home(
        schools=list({m.school_id: m.school for m in memberships}.values()),
        administered=administered_schools(user, memberships),
        taught=taught_classes(user, memberships),
        studied=studied_classes(memberships),
        children=children_of(user, memberships),
        chat_groups=chat_groups(user),
        news=school_news([m.school_id for m in memberships]),
    )


NEWS_SHOWN = 3


def school_news(school_ids):
    """The newest published articles of the person's schools (SPEC §10: «новости школы»)."""
    if not school_ids:
        return []
    return list(
        Article.select(Article, School)
        .join(School)
        .where(Article.school.in_(set(school_ids)) & (Article.status == Article.PUBLISHED))
        .order_by(Article.published_at.desc())
        .limit(NEWS_SHOWN)
    )
