"""Invitation links (SPEC §3): who makes them, what the link page says, and every refusal."""
import datetime as dt
import re

import pytest

from blueprints.schools import requests_actions as actions
from conftest import ROLES, gymnasium, post_form
from db.models import Invitation, JoinRequest, Membership, ParentLink, SchoolClass, User, utcnow

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


def klass(name):
    return SchoolClass.get((SchoolClass.school == gymnasium()) & (SchoolClass.name == name))


def make_link(app, demo, role="teacher", class_name="7А", creator="admin", days=7, max_uses=None):
    school_class = klass(class_name) if class_name else None
    with app.app_context():
        return actions.do_create_invitation(
            demo[creator], gymnasium(), role, school_class, days, max_uses
        )


def new_person(app, email="new.teacher@example.org"):
    """A signed-in client of a new account with a complete profile."""
    from blueprints.auth.actions import hash_password

    User.create(
        email=email, password_hash=hash_password("parta-demo"), first_name="Ирина", last_name="Новикова"
    )
    client = app.test_client()
    post_form(client, "/auth/login", {"identifier": email, "password": "parta-demo"})
    return client


# The list of links --------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_invitations_page_access(signed_in, role):
    response = signed_in(role).get(f"/schools/{gymnasium().id}/invitations")
    assert response.status_code == EXPECTED_LIST[role]
    if role == "anonymous":
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create_a_student_link_for_7a(signed_in, role):
    client = signed_in(role)
    school = gymnasium()
    url = f"/schools/{school.id}/invitations"
    page = url if EXPECTED_LIST[role] == 200 else "/"
    response = post_form(
        client, url, {"role": "student", "school_class": klass("7А").id, "days": 7}, page=page
    )
    made = Invitation.select().count()
    expected = {"teacher": 303, "admin": 303, "other_class_teacher": 403}.get(role, EXPECTED_LIST[role])
    assert response.status_code == expected
    assert made == (1 if expected == 303 else 0)


def test_admin_creates_a_teacher_link_shown_with_a_copy_field_and_warning(signed_in, demo):
    admin = signed_in("admin")
    url = f"/schools/{gymnasium().id}/invitations"
    response = post_form(
        admin, url, {"role": "teacher", "school_class": klass("7А").id, "days": 30, "max_uses": 1}
    )
    assert response.status_code == 303
    invitation = Invitation.get()
    assert (invitation.role, invitation.school_class.name, invitation.max_uses) == ("teacher", "7А", 1)
    assert dt.timedelta(days=29) < invitation.expires_at - utcnow() <= dt.timedelta(days=30)
    page = admin.get(url).get_data(as_text=True)
    assert "Не размещайте ссылки в открытом доступе" in page
    link = re.search(r'value="(http://localhost/invite/[\w-]+)"', page).group(1)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 40
    assert "Учитель в 7А" in page and "0 из 1" in page and "Отозвать" in page


def test_token_is_stored_only_as_its_hash(app, demo):
    invitation, token = make_link(app, demo)
    row = Invitation.get_by_id(invitation.id)
    stored = " ".join(str(v) for v in row.__data__.values())
    assert token not in stored
    assert row.token_hash == actions.hash_token(token)


def test_class_teacher_may_not_invite_a_teacher(signed_in):
    response = post_form(
        signed_in("teacher"),
        f"/schools/{gymnasium().id}/invitations",
        {"role": "teacher", "school_class": klass("7А").id, "days": 7},
    )
    assert response.status_code == 403 and Invitation.select().count() == 0


def test_class_teacher_may_not_invite_students_of_another_class(signed_in):
    response = post_form(
        signed_in("teacher"),
        f"/schools/{gymnasium().id}/invitations",
        {"role": "student", "school_class": klass("11А").id, "days": 7},
    )
    assert response.status_code == 403 and Invitation.select().count() == 0


def test_class_teacher_sees_only_links_of_their_class(app, demo, signed_in):
    make_link(app, demo, role="student", class_name="7А", creator="teacher")
    make_link(app, demo, role="student", class_name="11А", creator="teacher2")
    page = signed_in("teacher").get(f"/schools/{gymnasium().id}/invitations").get_data(as_text=True)
    assert "Ученик 7А" in page and "Ученик 11А" not in page
    assert '<option value="teacher"' not in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"role": "student", "school_class": "", "days": 7}, "Выберите класс"),
        ({"role": "teacher", "school_class": "", "days": 7, "max_uses": 0}, "от 1 до 1000"),
        ({"role": "teacher", "school_class": "", "days": 5}, "Выберите, сколько действует ссылка"),
    ],
)
def test_bad_link_form_says_why_and_changes_nothing(signed_in, data, message):
    response = post_form(signed_in("admin"), f"/schools/{gymnasium().id}/invitations", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert Invitation.select().count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_revoke_access(app, demo, signed_in, role):
    invitation, _token = make_link(app, demo, role="student", class_name="7А")
    client = signed_in(role)
    page = f"/schools/{gymnasium().id}/invitations" if EXPECTED_LIST[role] == 200 else "/"
    response = post_form(
        client, f"/schools/{gymnasium().id}/invitations/{invitation.id}/revoke", {}, page=page
    )
    expected = {"teacher": 303, "admin": 303}.get(role, EXPECTED_LIST[role])
    if role == "other_class_teacher":
        expected = 403
    assert response.status_code == expected
    revoked = Invitation.get_by_id(invitation.id).revoked_at is not None
    assert revoked == (expected == 303)


# The link page --------------------------------------------------------------------------


def test_link_page_says_where_and_as_whom_to_a_guest(app, demo, client):
    _invitation, token = make_link(app, demo)
    response = client.get(f"/invite/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Приглашение в учебное заведение" in page
    assert "Куда:" in page and "Гимназия №1" in page
    assert "Роль:" in page and "учитель в 7А" in page
    assert "Не размещайте ссылки в открытом доступе" in page
    assert "Войти или создать аккаунт" in page
    assert f"/auth/login?next=/invite/{token}" in page
    with client.session_transaction() as session:
        assert session["pending_invite"] == token


@pytest.mark.parametrize(
    "role, class_name, label", [("student", "7А", "ученик 7А"), ("admin", None, "администратор")]
)
def test_link_page_names_other_roles(app, demo, client, role, class_name, label):
    _invitation, token = make_link(app, demo, role=role, class_name=class_name)
    assert label in client.get(f"/invite/{token}").get_data(as_text=True)


def test_unknown_link_is_a_clear_404(client, demo):
    response = client.get("/invite/" + "x" * 43)
    assert response.status_code == 404
    assert "Ссылка-приглашение неверна" in response.get_data(as_text=True)


def test_revoked_link_is_refused(app, demo, signed_in):
    invitation, token = make_link(app, demo)
    actions.do_revoke_invitation(invitation)
    client = new_person(app)
    for response in (client.get(f"/invite/{token}"), post_form(client, f"/invite/{token}", {"subjects": "Химия"}, page="/")):
        assert response.status_code == 410
        assert "отозвана" in response.get_data(as_text=True)
    assert JoinRequest.select().count() == 0


def test_expired_link_is_refused(app, demo):
    invitation, token = make_link(app, demo, days=1)
    Invitation.update(expires_at=utcnow() - dt.timedelta(minutes=1)).where(
        Invitation.id == invitation.id
    ).execute()
    client = new_person(app)
    response = client.get(f"/invite/{token}")
    assert response.status_code == 410 and "истёк" in response.get_data(as_text=True)
    response = post_form(client, f"/invite/{token}", {"subjects": "Химия"}, page="/")
    assert response.status_code == 410 and JoinRequest.select().count() == 0


def test_single_use_link_cannot_be_reused(app, demo):
    invitation, token = make_link(app, demo, max_uses=1)
    first = new_person(app, "first@example.org")
    response = post_form(first, f"/invite/{token}", {"subjects": "Химия"})
    assert response.status_code == 303
    assert Invitation.get_by_id(invitation.id).uses == 1
    second = new_person(app, "second@example.org")
    response = second.get(f"/invite/{token}")
    assert response.status_code == 410
    assert "уже использована" in response.get_data(as_text=True)
    response = post_form(second, f"/invite/{token}", {"subjects": "Химия"}, page="/")
    assert response.status_code == 410
    assert JoinRequest.select().count() == 1


def test_following_a_link_files_a_request_never_a_membership(app, demo):
    invitation, token = make_link(app, demo)
    client = new_person(app)
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "Присоединиться" in page and "Предметы" in page
    response = post_form(client, f"/invite/{token}", {"subjects": "Химия, Биология"})
    assert response.status_code == 303
    user = User.get(User.email == "new.teacher@example.org")
    request = JoinRequest.get(JoinRequest.user == user)
    assert (request.status, request.role, request.school_class.name) == ("pending", "teacher", "7А")
    assert request.subjects == "Химия, Биология" and request.invitation_id == invitation.id
    assert not Membership.select().where(Membership.user == user).exists()


def test_teacher_must_name_a_subject(app, demo):
    _invitation, token = make_link(app, demo)
    client = new_person(app)
    response = post_form(client, f"/invite/{token}", {"subjects": " "})
    assert "Укажите предмет" in response.get_data(as_text=True)
    assert JoinRequest.select().count() == 0


def test_request_already_pending_is_refused(app, demo):
    _invitation, token = make_link(app, demo)
    client = new_person(app)
    post_form(client, f"/invite/{token}", {"subjects": "Химия"})
    response = client.get(f"/invite/{token}")
    assert response.status_code == 409
    assert "уже ждёт решения" in response.get_data(as_text=True)
    assert post_form(client, f"/invite/{token}", {"subjects": "Химия"}, page="/").status_code == 409
    assert JoinRequest.select().count() == 1


def test_a_member_in_that_role_and_class_is_refused(app, demo, signed_in):
    _invitation, token = make_link(app, demo, role="student", class_name="7А")
    response = signed_in("student").get(f"/invite/{token}")
    assert response.status_code == 409
    assert "Вы уже в Гимназия №1" in response.get_data(as_text=True)


def test_guest_is_brought_back_to_the_link_after_signing_up(app, demo, client, form, smtp_server):
    _invitation, token = make_link(app, demo)
    client.get(f"/invite/{token}")
    email = "came.by.link@example.org"
    form("/auth/signup", {"identifier": email})
    form("/auth/code", {"code": smtp_server.last_code(email)})
    form("/auth/password", {"password": "correct horse 1", "confirmation": "correct horse 1"})
    response = form(
        "/auth/about-you",
        {"last_name": "Рощина", "first_name": "Яна", "gender": "f", "birth_date": "1992-07-22"},
    )
    assert response.headers["Location"] == "/"
    back = client.get("/")
    assert back.status_code == 302 and back.headers["Location"] == f"/invite/{token}"
    assert client.get("/").status_code == 200  # only once


def test_signing_in_from_the_link_page_returns_to_it(app, demo, client):
    _invitation, token = make_link(app, demo, role="student")
    client.get(f"/invite/{token}")
    response = post_form(
        client,
        f"/auth/login?next=/invite/{token}",
        {"identifier": "kolya@example.org", "password": "parta-demo"},
    )
    assert response.headers["Location"] == f"/invite/{token}"


def test_parent_account_is_warned_before_joining_as_a_student(app, demo, signed_in):
    _invitation, token = make_link(app, demo, role="student", class_name="11А")
    parent = signed_in("parent")
    page = parent.get(f"/invite/{token}").get_data(as_text=True)
    assert "Похоже, это номер родителя" in page and "Всё равно продолжить" in page
    response = post_form(parent, f"/invite/{token}", {})
    assert response.status_code == 200
    assert "Всё равно продолжить" in response.get_data(as_text=True)
    assert JoinRequest.select().count() == 0
    response = post_form(parent, f"/invite/{token}", {"continue_anyway": "y"})
    assert response.status_code == 303 and JoinRequest.select().count() == 1


def test_parent_warning_also_for_a_parent_by_link_only(app, demo):
    client = new_person(app, "dad@example.org")
    ParentLink.create(parent=User.get(User.email == "dad@example.org"), child=demo["student"])
    _invitation, token = make_link(app, demo, role="student", class_name="11А")
    assert "Похоже, это номер родителя" in client.get(f"/invite/{token}").get_data(as_text=True)


def test_teacher_link_gives_no_parent_warning(app, demo, signed_in):
    _invitation, token = make_link(app, demo, role="teacher", class_name="11А")
    assert "Похоже, это номер родителя" not in signed_in("parent").get(f"/invite/{token}").get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_invite_page_is_open_to_everyone(app, demo, signed_in, role):
    _invitation, token = make_link(app, demo, role="teacher", class_name="11А")
    response = signed_in(role).get(f"/invite/{token}")
    # Яна and Пётр already teach in 11А; everybody else sees the invitation.
    assert response.status_code == (409 if role in ("teacher", "other_class_teacher") else 200)


@pytest.mark.parametrize("role", ROLES)
def test_join_via_invite_access(app, demo, signed_in, role):
    _invitation, token = make_link(app, demo, role="teacher", class_name="11А")
    client = signed_in(role)
    response = post_form(client, f"/invite/{token}", {"subjects": "Черчение"}, page="/")
    expected = {"anonymous": 302}.get(role, 303)
    assert response.status_code == expected
    assert JoinRequest.select().count() == (1 if expected == 303 else 0)
