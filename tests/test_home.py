"""The home page (SPEC §10): each role's desktop, what it never shows, and its query budget."""
import logging
import uuid
from contextlib import contextmanager

import pytest
from conftest import ROLES, SIGN_IN, acting, gymnasium, post_form

from blueprints.auth.actions import hash_password
from blueprints.chats import actions as chats
from blueprints.home.actions import CHATS_SHOWN
from db import database
from db.models import Chat, JoinRequest, Membership, ParentLink, School, SchoolClass, User, utcnow


def say(user, chat, body):
    return chats.do_send_message(user, chat, uuid.uuid4().hex, body)[0]


@pytest.fixture
def school_life(app, demo):
    """Chats of every kind in «Гимназия №1», a pending request and a reported message.

    «7А — Математика» (class): Яна, Мария. «11А — Физика» (class): Пётр, Анна.
    «Учительская» (group): Илья, Яна, Пётр. Ольга ↔ Яна (personal).
    """
    with acting(app):
        school = gymnasium()
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        c11 = SchoolClass.get(SchoolClass.name == "11А")
        seventh = chats.do_create_chat(
            demo["teacher"], school, "7А — Математика", {demo["student"].id}, kind=Chat.CLASS, school_class=c7
        )
        say(demo["teacher"], seventh, "Домашнее задание: № 214, 215.")
        eleventh = chats.do_create_chat(
            demo["teacher2"], school, "11А — Физика", {demo["student3"].id}, kind=Chat.CLASS, school_class=c11
        )
        secret = say(demo["student3"], eleventh, "Секрет одиннадцатого класса")
        staff = chats.do_create_chat(
            demo["admin"], school, "Учительская", {demo["teacher"].id, demo["teacher2"].id}
        )
        say(demo["admin"], staff, "Педсовет в четверг.")
        personal = chats.do_open_personal_chat(demo["parent"], demo["teacher"], school)
        say(demo["parent"], personal, "Маша завтра будет после обеда.")
        chats.do_report(demo["teacher2"], eleventh, secret, "")
        JoinRequest.create(user=demo["student2"], school=school, role=Membership.STUDENT, school_class=c11)


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page, section_id):
    """The HTML of the section with ``section_id`` (empty if the page has none)."""
    marker = f'id="{section_id}"'
    if marker not in page:
        return ""
    return page.split(marker, 1)[1].split("</section>", 1)[0]


# What each role sees -------------------------------------------------------------------

SEES = {
    "anonymous": {"Войти", "Создать аккаунт"},
    "student": {"Мой класс", "7А — Математика", "Домашнее задание", "Чаты классов"},
    "parent": {"Мои дети", "Иванова Мария Олеговна", "Иванов Дмитрий Олегович", "Рощина Яна Михайловна", "Личные чаты"},
    "teacher": {"Мои классы", "7А — Математика", "Учительская", "Иванова Ольга Петровна", "Чаты школы", "Чаты классов", "Личные чаты"},
    "other_class_teacher": {"Мои классы", "11А — Физика", "Секрет одиннадцатого класса", "Учительская", "Физика"},
    "other_school_admin": {"Администрирование", "Лицей №2"},
    "admin": {"Администрирование", "Гимназия №1", "Учительская"},
    "operator": {"Вы пока не состоите ни в одной школе", "У вас пока нет чатов."},
}
EVERY_CHAT = {"7А — Математика", "11А — Физика", "Учительская", "Иванова Ольга Петровна", "Рощина Яна Михайловна"}
SECRETS = {"Секрет одиннадцатого класса"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_own_home_and_nothing_of_others(signed_in, school_life, role):
    page = home(signed_in(role))
    for text in SEES[role]:
        assert text in page, (role, text)
    for text in (EVERY_CHAT | SECRETS) - SEES[role]:
        assert text not in page, (role, text)
    sections = {"home-administered", "home-taught", "home-studied", "home-children"}
    expected = {
        "student": {"home-studied"},
        "parent": {"home-children"},
        "teacher": {"home-taught"},
        "other_class_teacher": {"home-taught"},
        "other_school_admin": {"home-administered"},
        "admin": {"home-administered"},
    }.get(role, set())
    for section_id in sections:
        assert (f'id="{section_id}"' in page) == (section_id in expected), (role, section_id)


def test_guests_still_get_the_landing_page(client, school_life):
    page = home(client)
    assert "Войти" in page and "Создать аккаунт" in page
    assert 'id="home-chats"' not in page and "Здравствуйте" not in page


def test_teacher_desktop_lists_her_classes_with_subjects_then_chats_by_kind(app, signed_in, school_life):
    page = home(signed_in("teacher"))
    with database.connection_context():
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        c11 = SchoolClass.get(SchoolClass.name == "11А")
    classes = section(page, "home-taught")
    assert classes.index(">7А<") < classes.index(">11А<")
    assert f'href="/schools/{c7.school_id}/classes/{c7.id}"' in classes
    assert f'href="/schools/{c11.school_id}/classes/{c11.id}"' in classes
    assert classes.count("Математика") == 2
    assert classes.count("Классный руководитель") == 1  # of 7А only
    order = [page.index(f'id="home-chats-{kind}"') for kind in ("group", "class", "personal")]
    assert page.index('id="home-taught"') < order[0] and order == sorted(order)
    personal = section(page, "home-chats-personal")
    assert 'aria-label="1 непрочитанное сообщение"' in personal  # Ольга wrote; Яна has not read it
    assert "Маша завтра будет после обеда." in personal
    assert 'href="/chats?kind=personal"' in personal and "Показать все" in personal
    assert "home-school muted" not in page  # one school: rows need not name it
    # Her own message is not unread to her.
    assert "непрочитан" not in section(page, "home-chats-class")


def test_a_group_shows_the_newest_few_and_counts_the_rest(app, demo, signed_in, school_life):
    with acting(app):
        school = gymnasium()
        for n in range(CHATS_SHOWN + 2):
            chat = chats.do_create_chat(demo["admin"], school, f"Кружок {n}", {demo["teacher"].id})
            say(demo["admin"], chat, f"Занятие кружка {n}")
    group = section(home(signed_in("teacher")), "home-chats-group")
    assert group.count('href="/chats/') == CHATS_SHOWN
    assert f"Кружок {CHATS_SHOWN + 1}" in group and "Учительская" not in group  # newest first
    assert f"Показать все ({CHATS_SHOWN + 3})" in group
    assert f'aria-label="{CHATS_SHOWN + 3} непрочитанных сообщений"' in group


def test_a_student_sees_her_class_and_none_of_another(signed_in, school_life):
    page = home(signed_in("student"))
    studied = section(page, "home-studied")
    assert ">7А<" in studied and "11А" not in studied
    assert "11А — Физика" not in page and "Секрет" not in page
    assert 'aria-label="1 непрочитанное сообщение"' in section(page, "home-chats-class")


def test_a_parent_sees_each_child_with_school_and_class(app, demo, signed_in, school_life):
    page = home(signed_in("parent"))
    children = section(page, "home-children")
    with database.connection_context():
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        c5 = SchoolClass.get(SchoolClass.name == "5Б")
    assert f'<a href="/schools/{c7.school_id}/classes/{c7.id}">Класс 7А</a>, Гимназия №1' in children
    assert f'<a href="/schools/{c5.school_id}/classes/{c5.id}">Класс 5Б</a>, Лицей №2' in children
    assert "Петров" not in children  # another parent's child
    # Two schools: each chat row says which one it is of.
    assert '<span class="home-school muted">Гимназия №1</span>' in section(page, "home-chats-personal")


def test_a_parent_sees_only_confirmed_children_and_opens_only_classes_of_her_schools(app, demo, signed_in):
    with database.connection_context():
        school = gymnasium()
        c11 = SchoolClass.get(SchoolClass.name == "11А")
        ParentLink.create(parent=demo["parent"], child=demo["student2"])  # not confirmed
        ParentLink.create(parent=demo["parent"], child=demo["student3"], confirmed_at=utcnow())
        lyceum = School.get(School.short_name == "Лицей №2")
        c5 = SchoolClass.get(SchoolClass.name == "5Б")
        Membership.delete().where(
            (Membership.user == demo["parent"]) & (Membership.school == lyceum)
        ).execute()
    children = section(home(signed_in("parent")), "home-children")
    assert "Петров" not in children
    assert f'<a href="/schools/{school.id}/classes/{c11.id}">Класс 11А</a>' in children
    # She no longer belongs to the lyceum: its class page would be a 404 to her.
    assert "Класс 5Б, Лицей №2" in children and f"/classes/{c5.id}" not in children


def test_a_child_not_in_a_school_yet_is_shown_so(app, demo, signed_in):
    with database.connection_context():
        child = User.create(
            email="kid@example.org", password_hash=hash_password("parta-demo"), first_name="Вера", last_name="Иванова"
        )
        ParentLink.create(parent=demo["parent"], child=child, confirmed_at=utcnow())
    children = section(home(signed_in("parent")), "home-children")
    assert "Иванова Вера" in children and "Пока не учится ни в одной школе." in children


def test_an_administrator_sees_what_waits_in_her_school(signed_in, school_life):
    administered = section(home(signed_in("admin")), "home-administered")
    with database.connection_context():
        school = gymnasium()
    assert f'href="/schools/{school.id}/requests"' in administered
    assert 'aria-label="1 заявка ждёт решения"' in administered
    assert f'href="/schools/{school.id}/reports"' in administered
    assert 'aria-label="1 жалоба ждёт рассмотрения"' in administered
    other = section(home(signed_in("other_school_admin")), "home-administered")
    assert "Лицей №2" in other and "Гимназия" not in other and "badge" not in other


# Sign-in lands on the home page --------------------------------------------------------


@pytest.mark.parametrize(
    "next_url, lands",
    [(None, "/"), ("/chats", "/chats"), ("//evil.example/", "/"), ("https://evil.example/", "/")],
)
def test_sign_in_lands_on_the_home_page_unless_a_safe_next_is_given(client, demo, next_url, lands):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    response = post_form(client, url, {"identifier": SIGN_IN["teacher"], "password": "parta-demo"})
    assert response.status_code == 303 and response.headers["Location"] == lands
    if lands == "/":
        assert "Мои классы" in home(client)


# Query budget ----------------------------------------------------------------------------


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        self.count += 1


@contextmanager
def counting_queries():
    logger = logging.getLogger("peewee")
    counter, level = QueryCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def queries_for_home(client):
    with counting_queries() as counter:
        home(client)
    return counter.count


def test_the_home_page_costs_the_same_queries_however_many_chats(app, demo, signed_in, school_life):
    teacher, parent = signed_in("teacher"), signed_in("parent")
    home(teacher), home(parent)  # the first page of a session may fill caches
    before = queries_for_home(teacher), queries_for_home(parent)
    with acting(app):
        school = gymnasium()
        for n in range(12):
            chat = chats.do_create_chat(demo["admin"], school, f"Кружок {n}", {demo["teacher"].id})
            say(demo["admin"], chat, "Занятие переносится.")
        for student in ("student", "student2", "student3", "student4"):
            personal = chats.do_open_personal_chat(demo[student], demo["teacher"], school)
            say(demo[student], personal, "Вопрос по задаче.")
        lyceum = School.get(School.short_name == "Лицей №2")
        c5 = SchoolClass.get(SchoolClass.name == "5Б")
        for n in range(3):
            child = User.create(email=f"child{n}@example.org", password_hash="x", first_name=f"Ребёнок {n}")
            Membership.create(user=child, school=lyceum, role=Membership.STUDENT, school_class=c5)
            ParentLink.create(parent=demo["parent"], child=child, confirmed_at=utcnow())
    after = queries_for_home(teacher), queries_for_home(parent)
    assert after == before, (before, after)
    assert before[0] <= 15, before  # and the budget itself stays small


def test_school_news_shows_published_articles_of_ones_own_schools(app, demo, signed_in):
    from db.models import Article

    with database.connection_context():
        school = gymnasium()
        lyceum = School.get(School.short_name == "Лицей №2")
        Article.create(school=school, author=demo["teacher"], title="Олимпиада по математике: итоги",
                       status=Article.PUBLISHED, published_at=utcnow())
        Article.create(school=school, author=demo["teacher"], title="Черновик выпускного альбома")
        Article.create(school=lyceum, author=demo["lyceum_admin"], title="День открытых дверей в лицее",
                       status=Article.PUBLISHED, published_at=utcnow())
    student = signed_in("student").get("/").get_data(as_text=True)
    assert "Новости школы" in student and "Олимпиада по математике: итоги" in student
    assert "Черновик выпускного альбома" not in student
    assert "День открытых дверей в лицее" not in student
    other = signed_in("other_school_admin").get("/").get_data(as_text=True)
    assert "День открытых дверей в лицее" in other and "Олимпиада по математике" not in other
