"""Parents (SPEC §4, seeds [000] [001] [002]): the student's link, its refusals, and a
parent signing up by phone and confirming the child."""
import datetime as dt
import re

import pytest

from conftest import ROLES, post_form
from db.models import Membership, Notification, ParentInvitation, ParentLink, User

LINK = re.compile(r"(?:http://localhost)?/parent/([\w-]+)")
PARENT_PHONE_TYPED = "+7 921 869-52-61"
PARENT_PHONE = "+79218695261"
PARENT = {
    "last_name": "Иванов",
    "first_name": "Олег",
    "patronymic": "Павлович",
    "gender": "m",
    "birth_date": "1983-04-02",
}
MASHA = {
    "last_name": "Иванова",
    "first_name": "Мария",
    "patronymic": "Олеговна",
    "gender": "f",
    "birth_date": "2012-05-09",
}


def text(response):
    return response.get_data(as_text=True)


def create_link(student_client):
    """«Пригласить родителя» in the student's profile; returns the link's token."""
    response = post_form(student_client, "/profile/parents/invite", {}, page="/profile")
    assert response.status_code == 303
    assert response.headers["Location"] == "/profile#parents"
    return LINK.search(text(student_client.get("/profile"))).group(1)


def masha():
    return User.get(User.email == "masha@example.org")


def sign_up_by_phone(client, sms_gateway, phone_typed=PARENT_PHONE_TYPED, phone=PARENT_PHONE):
    """The real sign-up: phone, the SMS code from the gateway, a password, «О себе»."""
    assert post_form(client, "/auth/signup", {"identifier": phone_typed}).headers["Location"] == "/auth/code"
    code = sms_gateway.last_code(phone)
    assert post_form(client, "/auth/code", {"code": code}).headers["Location"] == "/auth/password"
    password = {"password": "parent pass 1", "confirmation": "parent pass 1"}
    assert post_form(client, "/auth/password", password).headers["Location"] == "/auth/about-you"
    assert post_form(client, "/auth/about-you", PARENT).headers["Location"] == "/"


def confirm(client, token, data=MASHA):
    return post_form(client, f"/parent/{token}/confirm", data, page=f"/parent/{token}")


# The whole path -------------------------------------------------------------------------


def test_student_invites_a_parent_who_signs_up_by_phone_and_confirms_the_child(
    app, signed_in, sms_gateway
):
    student = signed_in("student")
    profile = text(student.get("/profile"))
    assert "Родители" in profile and "Иванова Ольга Петровна" in profile
    assert "Пригласить родителя" in profile

    token = create_link(student)
    profile = text(student.get("/profile"))
    assert f"http://localhost/parent/{token}" in profile
    assert "Скопируйте ссылку, нажав на неё." in profile
    assert 'src="/profile/parents/qr.svg' in profile
    qr = student.get("/profile/parents/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.headers["Cache-Control"].startswith("private")
    assert text(qr).startswith("<svg") and "<path" in text(qr)
    assert create_link(student) == token  # the live link is kept, not replaced

    guest = app.test_client()
    invitation = guest.get(f"/parent/{token}")
    page = text(invitation)
    assert invitation.status_code == 200
    assert "Мария" in page and "7А, Гимназия №1" in page
    assert "Иванова" not in page and "Олеговна" not in page and "2012" not in page
    assert "Войти или создать аккаунт" in page

    sign_up_by_phone(guest, sms_gateway)
    back = guest.get("/")
    assert back.status_code == 302 and back.headers["Location"] == f"/parent/{token}"
    assert guest.get("/").status_code == 200  # only once
    page = text(guest.get(f"/parent/{token}"))
    assert "Подтвердить регистрацию ребёнка" in page
    assert 'value="Иванова"' in page and 'value="2012-05-09"' in page

    done = confirm(guest, token, {**MASHA, "patronymic": "Олеговна-Мария"})
    assert done.status_code == 303 and done.headers["Location"] == "/profile#children"

    parent = User.get(User.phone == PARENT_PHONE)
    link = ParentLink.get((ParentLink.parent == parent) & (ParentLink.child == masha()))
    assert link.confirmed_at is not None
    assert masha().patronymic == "Олеговна-Мария"
    membership = Membership.get((Membership.user == parent) & (Membership.role == Membership.PARENT))
    assert (membership.school.short_name, membership.school_class.name) == ("Гимназия №1", "7А")
    notice = Notification.get(Notification.user == masha())
    assert "Иванов Олег Павлович" in notice.text and notice.link == "/profile"

    parent_profile = text(guest.get("/profile"))
    assert "Дети" in parent_profile
    assert "Иванова Мария Олеговна-Мария" in parent_profile and "7А, Гимназия №1" in parent_profile
    assert "Иванов Олег Павлович" in text(student.get("/profile"))


def test_a_parent_who_signs_in_with_an_existing_account_comes_back_to_the_link(app, signed_in):
    token = create_link(signed_in("student"))
    client = app.test_client()
    client.get(f"/parent/{token}")
    post_form(client, "/auth/login", {"identifier": "+79000000002", "password": "parta-demo"})
    assert client.get("/").headers["Location"] == f"/parent/{token}"
    assert confirm(client, token).status_code == 303
    assert "Иванова Мария Олеговна" in text(client.get("/profile"))


# Refusals -------------------------------------------------------------------------------


def test_the_student_opening_their_own_link_is_refused_with_the_three_ways_round(app, signed_in):
    student = signed_in("student")
    token = create_link(student)
    refused = student.get(f"/parent/{token}")
    page = text(refused)
    assert refused.status_code == 403
    assert "Ребёнок не может стать родителем самому себе" in page
    assert "на другом устройстве" in page
    assert "инкогнито" in page
    assert "выйти из своего профиля" in page
    assert confirm(student, token).status_code == 403
    assert ParentLink.select().where(ParentLink.parent == masha()).count() == 0

    signed_out = post_form(student, f"/parent/{token}/sign-out", {}, page=f"/parent/{token}")
    assert signed_out.status_code == 303 and signed_out.headers["Location"] == f"/parent/{token}"
    assert "Войти или создать аккаунт" in text(student.get(f"/parent/{token}"))
    assert student.get("/profile").status_code == 302


def test_a_third_parent_is_refused_and_the_link_stops_working(app, signed_in):
    student = signed_in("student")
    token = create_link(student)
    late = signed_in("admin")
    assert late.get(f"/parent/{token}").status_code == 200  # one parent so far: open

    assert confirm(signed_in("teacher"), token).status_code == 303  # the second parent
    assert ParentLink.select().where(ParentLink.child == masha()).count() == 2
    assert ParentInvitation.get(ParentInvitation.student == masha()).revoked_at is not None

    # The admin had the page open before: the refusal is checked again on confirming.
    refused = post_form(late, f"/parent/{token}/confirm", MASHA, page="/profile")
    assert refused.status_code == 403 and "В профиле ребёнка уже есть два родителя" in text(refused)
    assert ParentLink.select().where(ParentLink.child == masha()).count() == 2
    admin = User.get(User.phone == "+79000000001")
    assert not Membership.select().where(
        (Membership.user == admin) & (Membership.role == Membership.PARENT)
    ).exists()

    for client in (late, app.test_client()):
        again = client.get(f"/parent/{token}")
        assert again.status_code == 403 and "больше не работает" in text(again)

    profile = text(student.get("/profile"))
    assert "Пригласить родителя" not in profile and "/parent/" not in profile
    refused = post_form(student, "/profile/parents/invite", {}, page="/profile")
    assert refused.status_code == 303
    assert "уже есть два родителя" in text(student.get("/profile"))
    assert ParentInvitation.select().where(ParentInvitation.revoked_at.is_null()).count() == 0


def test_unknown_and_replaced_links_say_they_no_longer_work(app, signed_in):
    student = signed_in("student")
    old = create_link(student)
    replaced = post_form(student, "/profile/parents/invite", {"replace": "1"}, page="/profile")
    assert replaced.status_code == 303
    new = LINK.search(text(student.get("/profile"))).group(1)
    assert new != old
    guest = app.test_client()
    for token in (old, "not-a-token"):
        gone = guest.get(f"/parent/{token}")
        assert gone.status_code == 404 and "Ссылка больше не работает" in text(gone)
    assert guest.get(f"/parent/{new}").status_code == 200
    teacher = signed_in("teacher")
    assert post_form(teacher, f"/parent/{old}/confirm", MASHA, page=f"/parent/{new}").status_code == 404
    assert ParentLink.select().where(ParentLink.child == masha()).count() == 1
    assert confirm(teacher, new).status_code == 303


def test_an_account_without_a_phone_is_told_parents_sign_up_by_phone(app, signed_in):
    token = create_link(signed_in("student"))
    kolya = app.test_client()
    post_form(kolya, "/auth/login", {"identifier": "kolya@example.org", "password": "parta-demo"})
    refused = kolya.get(f"/parent/{token}")
    page = text(refused)
    assert refused.status_code == 403
    assert "Родители регистрируются по номеру телефона" in page
    assert "Выйти и продолжить с номером телефона" in page
    assert confirm(kolya, token).status_code == 403
    assert ParentLink.select().where(ParentLink.child == masha()).count() == 1


def test_a_parent_sees_children_in_different_schools(signed_in):
    profile = text(signed_in("parent").get("/profile"))
    children = profile.split('id="children"')[1]
    assert "Иванова Мария Олеговна" in children and "7А, Гимназия №1" in children
    assert "Иванов Дмитрий Олегович" in children and "5Б, Лицей №2" in children
    assert 'id="parents"' not in profile  # a parent, not a student: no «Родители» block


@pytest.mark.parametrize(
    "change, error",
    [
        ({"first_name": "М4ша"}, "Используйте только буквы, без цифр и символов."),
        ({"birth_date": "2031-01-01"}, "Дата рождения не может быть в будущем."),
        ({"last_name": ""}, "Заполните это поле."),
    ],
)
def test_a_wrong_correction_is_shown_on_the_form_and_changes_nothing(signed_in, change, error):
    token = create_link(signed_in("student"))
    response = confirm(signed_in("teacher"), token, {**MASHA, **change})
    assert response.status_code == 200 and error in text(response)
    child = masha()
    assert (child.first_name, child.last_name, child.birth_date) == ("Мария", "Иванова", dt.date(2012, 5, 9))
    assert ParentLink.select().where(ParentLink.child == child).count() == 1


def test_confirming_twice_changes_nothing(signed_in):
    token = create_link(signed_in("student"))
    teacher = signed_in("teacher")
    assert confirm(teacher, token).status_code == 303
    assert "уже в вашем профиле" in text(teacher.get(f"/parent/{token}"))
    assert confirm(teacher, token, {**MASHA, "first_name": "Маша"}).status_code == 303
    assert masha().first_name == "Мария"
    assert Notification.select().where(Notification.user == masha()).count() == 1


# Access ---------------------------------------------------------------------------------


def test_only_the_student_sees_the_qr_code_of_their_link(signed_in, app):
    student = signed_in("student")
    assert student.get("/profile/parents/qr.svg").status_code == 404  # no link yet
    create_link(student)
    kolya = app.test_client()
    post_form(kolya, "/auth/login", {"identifier": "kolya@example.org", "password": "parta-demo"})
    assert kolya.get("/profile/parents/qr.svg").status_code == 404  # another student
    assert signed_in("parent").get("/profile/parents/qr.svg").status_code == 404


INVITE_CREATE = {"student": 303, "anonymous": 302}
QR = {"student": 200, "anonymous": 302}
INVITATION = {"anonymous": 200, "student": 403, "operator": 403}
CONFIRM = {"anonymous": 302, "student": 403, "operator": 403}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, signed_in, role):
    student = signed_in("student")
    token = create_link(student)
    client = signed_in(role) if role != "student" else student
    page = "/profile" if role != "anonymous" else f"/parent/{token}"

    assert post_form(client, "/profile/parents/invite", {}, page=page).status_code == INVITE_CREATE.get(role, 403)
    assert client.get("/profile/parents/qr.svg").status_code == QR.get(role, 404)
    assert client.get(f"/parent/{token}").status_code == INVITATION.get(role, 200)
    confirmed = post_form(client, f"/parent/{token}/confirm", MASHA, page=page)
    assert confirmed.status_code == CONFIRM.get(role, 303)
    if confirmed.status_code == 303:
        assert confirmed.headers["Location"] == "/profile#children"
    signed_out = post_form(client, f"/parent/{token}/sign-out", {}, page=page)
    assert signed_out.status_code == 303
    assert client.get("/profile").status_code == 302
