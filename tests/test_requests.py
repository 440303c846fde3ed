"""Join requests (SPEC §3): who decides them, what a decision does, and applying without a link."""
import pytest

from blueprints.schools import requests_actions as actions
from conftest import ROLES, gymnasium, post_form
from db.models import JoinRequest, Membership, Notification, SchoolClass, User

EXPECTED_LIST = {
    "anonymous": 302,
    "student": 403,
    "parent": 403,
    "teacher": 200,
    "other_class_teacher": 200,
    "other_school_admin": 404,
    "admin": 200,
    "operator": 404,
}


def klass(name, school=None):
    return SchoolClass.get((SchoolClass.school == (school or gymnasium())) & (SchoolClass.name == name))


def newcomer(email="newcomer@example.org", first="Ирина"):
    from blueprints.auth.actions import hash_password

    return User.create(
        email=email, password_hash=hash_password("parta-demo"), first_name=first, last_name="Новикова"
    )


def file_request(app, user, role="student", class_name="7А", subjects=""):
    school_class = klass(class_name) if class_name else None
    with app.test_request_context():
        return actions.do_apply_to_join(user, gymnasium(), role, [school_class] if school_class else [], subjects)[0]


def decide(client, request, decision, reason="", page=None):
    school_id = request.school_id
    return post_form(
        client,
        f"/schools/{school_id}/requests/{request.id}",
        {"decision": decision, "reason": reason},
        page=page or f"/schools/{school_id}/requests",
    )


@pytest.mark.parametrize("role", ROLES)
def test_requests_page_access(signed_in, role):
    response = signed_in(role).get(f"/schools/{gymnasium().id}/requests")
    assert response.status_code == EXPECTED_LIST[role]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_accept_a_student_request_for_7a(app, demo, signed_in, role):
    request = file_request(app, newcomer())
    client = signed_in(role)
    page = f"/schools/{gymnasium().id}/requests" if EXPECTED_LIST[role] == 200 else "/"
    response = decide(client, request, "accept", page=page)
    expected = {"teacher": 303, "admin": 303, "other_class_teacher": 403}.get(role, EXPECTED_LIST[role])
    assert response.status_code == expected
    joined = Membership.select().where(Membership.user == request.user).exists()
    assert joined == (expected == 303)


def test_class_teacher_deciding_for_another_class_gets_403(app, demo, signed_in):
    request = file_request(app, newcomer(), class_name="11А")
    response = decide(signed_in("teacher"), request, "reject", "Не наш класс")
    assert response.status_code == 403
    assert JoinRequest.get_by_id(request.id).status == "pending"


def test_class_teacher_cannot_decide_a_teacher_request(app, demo, signed_in):
    request = file_request(app, newcomer(), role="teacher", subjects="Химия")
    assert decide(signed_in("teacher"), request, "accept").status_code == 403


def test_a_request_of_another_school_is_404(app, demo, signed_in):
    request = file_request(app, newcomer())
    response = post_form(
        signed_in("other_school_admin"),
        f"/schools/{demo['son'].memberships[0].school_id}/requests/{request.id}",
        {"decision": "accept"},
        page="/",
    )
    assert response.status_code == 404


def test_class_teacher_sees_only_requests_of_their_class(app, demo, signed_in):
    file_request(app, newcomer("a@example.org", "Алиса"), class_name="7А")
    file_request(app, newcomer("b@example.org", "Борис"), class_name="11А")
    page = signed_in("teacher").get(f"/schools/{gymnasium().id}/requests").get_data(as_text=True)
    assert "Алиса" in page and "Борис" not in page
    with app.test_request_context():
        assert actions.pending_requests_count(demo["teacher"], gymnasium()) == 1
        assert actions.pending_requests_count(demo["admin"], gymnasium()) == 2
        assert actions.pending_requests_count(demo["student"], gymnasium()) == 0


def test_accepting_a_teacher_adds_one_membership_per_subject_and_notifies(app, demo, signed_in):
    user = newcomer()
    request = file_request(app, user, role="teacher", subjects="Химия, Биология")
    assert Notification.select().where(Notification.user == demo["admin"]).count() == 1
    response = decide(signed_in("admin"), request, "accept")
    assert response.status_code == 303
    held = {(m.role, m.school_class.name, m.subject) for m in Membership.select().where(Membership.user == user)}
    assert held == {("teacher", "7А", "Химия"), ("teacher", "7А", "Биология")}
    notice = Notification.get(Notification.user == user)
    assert "принята" in notice.text and "Гимназия №1" in notice.text
    assert JoinRequest.get_by_id(request.id).decided_by_id == demo["admin"].id


def test_student_request_notifies_admins_and_the_class_teacher(app, demo):
    file_request(app, newcomer())
    told = {n.user_id for n in Notification.select()}
    assert told == {demo["admin"].id, demo["teacher"].id}


def test_rejecting_needs_a_reason_and_tells_the_person(app, demo, signed_in):
    user = newcomer()
    request = file_request(app, user)
    admin = signed_in("admin")
    response = decide(admin, request, "reject", "  ")
    assert response.status_code == 400
    assert "Укажите причину отклонения" in response.get_data(as_text=True)
    assert JoinRequest.get_by_id(request.id).status == "pending"
    response = decide(admin, request, "reject", "Такого ученика нет в списках 7А")
    assert response.status_code == 303
    assert JoinRequest.get_by_id(request.id).status == "rejected"
    assert not Membership.select().where(Membership.user == user).exists()
    notice = Notification.get(Notification.user == user)
    assert "отклонена" in notice.text and "Такого ученика нет в списках 7А" in notice.text


def test_deciding_twice_is_refused(app, demo, signed_in):
    request = file_request(app, newcomer())
    admin = signed_in("admin")
    assert decide(admin, request, "accept").status_code == 303
    response = decide(admin, request, "reject", "Передумал")
    assert response.status_code == 409
    assert "уже принято решение" in response.get_data(as_text=True)
    assert JoinRequest.get_by_id(request.id).status == "accepted"


def test_the_person_sees_the_decision_in_notifications(app, demo, signed_in):
    user = newcomer()
    request = file_request(app, user)
    decide(signed_in("admin"), request, "accept")
    client = app.test_client()
    post_form(client, "/auth/login", {"identifier": user.email, "password": "parta-demo"})
    page = client.get("/notifications").get_data(as_text=True)
    assert "Ваша заявка на вступление в Гимназия №1 (ученик 7А) принята." in page
    assert "Гимназия №1" in client.get("/").get_data(as_text=True)


# Finding a school and applying -------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_find_is_for_signed_in_people(signed_in, role):
    response = signed_in(role).get("/schools/find")
    assert response.status_code == (302 if role == "anonymous" else 200)


def test_find_by_country_then_city_then_name(signed_in):
    client = signed_in("student")
    page = client.get("/schools/find").get_data(as_text=True)
    assert "Россия" in page and "Москва" in page and "Тверь" in page
    page = client.get("/schools/find?country=Россия&city=Тверь").get_data(as_text=True)
    assert "Лицей №2" in page and "Гимназия №1" not in page
    page = client.get("/schools/find?country=Россия&city=Москва&q=гимназия").get_data(as_text=True)
    assert "Гимназия №1" in page
    page = client.get("/schools/find?country=Россия&city=Москва&q=лицей").get_data(as_text=True)
    assert "Ничего не найдено" in page


@pytest.mark.parametrize("role", ROLES)
def test_apply_page_access(signed_in, role):
    response = signed_in(role).get(f"/schools/{gymnasium().id}/join")
    assert response.status_code == (302 if role == "anonymous" else 200)


def test_apply_as_a_teacher_to_several_classes(app, demo):
    user = newcomer()
    client = app.test_client()
    post_form(client, "/auth/login", {"identifier": user.email, "password": "parta-demo"})
    url = f"/schools/{gymnasium().id}/join"
    response = post_form(
        client, url, {"role": "teacher", "subjects": "Химия", "classes": [klass("7А").id, klass("11А").id]}
    )
    assert response.status_code == 303
    requests = list(JoinRequest.select().where(JoinRequest.user == user))
    assert {(r.role, r.school_class.name, r.subjects, r.invitation_id) for r in requests} == {
        ("teacher", "7А", "Химия", None),
        ("teacher", "11А", "Химия", None),
    }
    assert not Membership.select().where(Membership.user == user).exists()
    assert "11А · социально-гуманитарный" in client.get(url).get_data(as_text=True)


def test_a_teacher_of_the_school_asks_to_join_one_more_class(app, demo, signed_in):
    client = signed_in("other_class_teacher")  # Пётр: физика in 7А and 11А
    url = f"/schools/{gymnasium().id}/join"
    response = post_form(client, url, {"role": "teacher", "subjects": "Физика", "classes": [klass("7А").id]})
    assert response.status_code == 400
    assert "Вы уже в Гимназия №1" in response.get_data(as_text=True)
    response = post_form(client, url, {"role": "teacher", "subjects": "Астрономия", "classes": [klass("7А").id]})
    assert response.status_code == 303
    request = JoinRequest.get(JoinRequest.user == demo["teacher2"])
    decide(signed_in("admin"), request, "accept")
    assert Membership.select().where(
        (Membership.user == demo["teacher2"]) & (Membership.subject == "Астрономия")
    ).count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"role": ""}, "Выберите роль"),
        ({"role": "student"}, "Выберите свой класс"),
        ({"role": "teacher", "subjects": "Химия"}, "Выберите классы"),
        ({"role": "teacher", "classes": ["CLS"]}, "Укажите предмет"),
        ({"role": "admin"}, "Не является допустимым"),
    ],
)
def test_bad_application_says_why_and_changes_nothing(app, demo, signed_in, data, message):
    if data.get("classes") == ["CLS"]:
        data = {**data, "classes": [klass("7А").id]}
    response = post_form(signed_in("student"), f"/schools/{gymnasium().id}/join", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page or (message == "Не является допустимым" and "Выберите роль" not in page)
    assert JoinRequest.select().count() == 0


def test_parent_applying_as_a_student_is_warned(app, demo, signed_in):
    parent = signed_in("parent")
    url = f"/schools/{gymnasium().id}/join"
    assert "Похоже, это номер родителя" in parent.get(url).get_data(as_text=True)
    response = post_form(parent, url, {"role": "student", "classes": [klass("11А").id]})
    assert response.status_code == 400 and JoinRequest.select().count() == 0
    assert "Всё равно продолжить" in response.get_data(as_text=True)
    response = post_form(
        parent, url, {"role": "student", "classes": [klass("11А").id], "continue_anyway": "y"}
    )
    assert response.status_code == 303 and JoinRequest.select().count() == 1


def test_apply_to_an_unknown_school_is_404(signed_in):
    assert signed_in("student").get("/schools/99999/join").status_code == 404
