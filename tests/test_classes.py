"""Classes: the list, a class page, «Добавить учителя», the class teacher (SPEC §5, [004])."""
import pytest

from conftest import gymnasium, post_form
from db.models import Membership, School, SchoolClass, User

MEMBERS = ("student", "parent", "teacher", "other_class_teacher", "admin")


def class_7a():
    return SchoolClass.get((SchoolClass.school == gymnasium()) & (SchoolClass.name == "7А"))


def base():
    return f"/schools/{gymnasium().id}/classes"


def page():
    return f"{base()}/{class_7a().id}"


def expected(role, allowed):
    if role == "anonymous":
        return 302
    if role in ("other_school_admin", "operator"):
        return 404
    return 200 if role in allowed else 403


def post(client, role, url, data):
    """POST with a CSRF token from a page the role can open."""
    if role == "anonymous":
        return post_form(client, url, data, page="/auth/login")
    return post_form(client, url, data, page="/profile/edit")


ALL = ("anonymous", "student", "parent", "teacher", "other_class_teacher", "other_school_admin", "admin", "operator")


@pytest.mark.parametrize("role", ALL)
def test_classes_list_is_open_to_every_member(signed_in, role):
    response = signed_in(role).get(base())
    assert response.status_code == expected(role, MEMBERS)
    if response.status_code == 200:
        text = response.get_data(as_text=True)
        assert "7А" in text and "11А" in text and "Рощина Яна Михайловна" in text
        assert ("Добавить класс" in text) == (role == "admin")


@pytest.mark.parametrize("role", ALL)
def test_class_page_is_open_to_every_member(signed_in, role):
    response = signed_in(role).get(page())
    assert response.status_code == expected(role, MEMBERS)
    if response.status_code == 200:
        text = response.get_data(as_text=True)
        assert "Иванова Мария Олеговна" in text and "Математика" in text and "Физика" in text
        assert "Чаты класса" in text
        assert ("Добавить учителя" in text) == (role in ("teacher", "other_class_teacher", "admin"))


@pytest.mark.parametrize("role", ALL)
def test_only_the_administrator_creates_classes(signed_in, role):
    client = signed_in(role)
    status = expected(role, ("admin",))
    response = post(client, role, f"{base()}/new", {"name": "9в"})
    assert response.status_code == (303 if status == 200 else status)
    created = SchoolClass.get_or_none(SchoolClass.name == "9В")
    assert (created is not None) == (role == "admin")
    if role == "admin":
        assert response.headers["Location"] == f"{base()}/{created.id}"


@pytest.mark.parametrize("role", ALL)
def test_who_may_add_a_teacher(signed_in, role):
    client = signed_in(role)
    status = expected(role, ("teacher", "other_class_teacher", "admin"))
    me = {"teacher": "+79000000002", "other_class_teacher": "+79000000003"}.get(role, "+79000000002")
    teacher = User.get(User.phone == me)
    response = post(client, role, f"{page()}/teachers", {"teacher": teacher.id, "subject": "Информатика"})
    assert response.status_code == (303 if status == 200 else status)
    added = Membership.get_or_none(
        (Membership.user == teacher) & (Membership.school_class == class_7a()) & (Membership.subject == "Информатика")
    )
    assert (added is not None) == (status == 200)


@pytest.mark.parametrize("role", ALL)
def test_only_the_administrator_sets_the_class_teacher(signed_in, role):
    client = signed_in(role)
    status = expected(role, ("admin",))
    petr = User.get(User.phone == "+79000000003")
    response = post(client, role, f"{page()}/class-teacher", {"teacher": petr.id})
    assert response.status_code == (303 if status == 200 else status)
    assert (class_7a().class_teacher_id == petr.id) == (role == "admin")


def test_a_teacher_adds_themself_with_a_subject(signed_in):
    client = signed_in("other_class_teacher")
    text = client.get(page()).get_data(as_text=True)
    assert "Рощина" not in text.split("Добавить учителя")[1], "a teacher picks only themself"
    response = post_form(client, f"{page()}/teachers", {"teacher": User.get(User.phone == "+79000000003").id, "subject": "  Астрономия "}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Соколов Пётр Андреевич — Астрономия, Физика" in text or "Соколов Пётр Андреевич — Физика, Астрономия" in text
    again = post_form(client, f"{page()}/teachers", {"teacher": User.get(User.phone == "+79000000003").id, "subject": "астрономия"}, follow_redirects=True)
    assert "уже ведёт этот предмет" in again.get_data(as_text=True)
    assert Membership.select().where((Membership.subject == "Астрономия")).count() == 1


def test_a_teacher_cannot_add_another_teacher(signed_in):
    client = signed_in("other_class_teacher")
    yana = User.get(User.phone == "+79000000002")
    response = post_form(client, f"{page()}/teachers", {"teacher": yana.id, "subject": "Химия"})
    assert response.status_code == 403
    assert not Membership.select().where(Membership.subject == "Химия").exists()


def test_an_administrator_adds_any_teacher_of_the_school(signed_in):
    client = signed_in("admin")
    yana = User.get(User.phone == "+79000000002")
    response = post_form(client, f"{page()}/teachers", {"teacher": yana.id, "subject": "Геометрия"})
    assert response.status_code == 303
    assert Membership.get(Membership.subject == "Геометрия").user_id == yana.id


def test_a_student_cannot_add_a_teacher(signed_in):
    client = signed_in("student")
    yana = User.get(User.phone == "+79000000002")
    response = post_form(client, f"{page()}/teachers", {"teacher": yana.id, "subject": "Химия"}, page="/profile/edit")
    assert response.status_code == 403
    assert not Membership.select().where(Membership.subject == "Химия").exists()


def test_a_subject_is_required(signed_in):
    client = signed_in("teacher")
    yana = User.get(User.phone == "+79000000002")
    before = Membership.select().count()
    response = post_form(client, f"{page()}/teachers", {"teacher": yana.id, "subject": " "})
    assert response.status_code == 200
    assert "Укажите предмет" in response.get_data(as_text=True)
    assert Membership.select().count() == before


@pytest.mark.parametrize(
    "name, message",
    [
        ("12А", "Название класса — это год обучения от 1 до 11"),
        ("7A", "Название класса — это год обучения от 1 до 11"),  # a Latin A
        ("А7", "Название класса — это год обучения от 1 до 11"),
        ("", "Укажите класс"),
        ("7а", "В школе уже есть класс 7А"),
    ],
)
def test_a_bad_class_name_is_refused_with_a_clear_message(signed_in, name, message):
    client = signed_in("admin")
    before = SchoolClass.select().count()
    response = post_form(client, f"{base()}/new", {"name": name}, page=base())
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert SchoolClass.select().count() == before


def test_an_administrator_picks_only_teachers_of_the_school_as_class_teacher(signed_in):
    client = signed_in("admin")
    outsider = User.get(User.phone == "+79000000021")
    response = post_form(client, f"{page()}/class-teacher", {"teacher": outsider.id})
    assert response.status_code == 200
    assert "Выберите учителя этой школы" in response.get_data(as_text=True)
    assert class_7a().class_teacher.phone == "+79000000002"
    assert post_form(client, f"{page()}/class-teacher", {"teacher": 0}).status_code == 303
    assert class_7a().class_teacher is None


def test_classes_of_another_school_are_not_found(signed_in):
    lyceum = School.get(School.short_name == "Лицей №2")
    c5 = SchoolClass.get(SchoolClass.school == lyceum)
    client = signed_in("admin")
    assert client.get(f"/schools/{lyceum.id}/classes/{c5.id}").status_code == 404
    assert client.get(f"{base()}/{c5.id}").status_code == 404
