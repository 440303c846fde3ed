"""Accounts: sign-up, codes, sign-in, reset, «Это не я» (SPEC §1)."""
import datetime as dt

import pytest

from conftest import post_form
from db.models import OneTimeCode, User, utcnow

EMAIL = "new.student@example.org"
PHONE_TYPED = "8 (921) 869-52-60"
PHONE = "+79218695260"
PROFILE = {
    "last_name": "Рощина",
    "first_name": "Яна",
    "patronymic": "Михайловна",
    "gender": "f",
    "birth_date": "1992-07-22",
}


def start_signup(form, identifier):
    return form("/auth/signup", {"identifier": identifier})


def sign_up(client, form, smtp_server, address=EMAIL, password="correct horse 1"):
    assert start_signup(form, address).headers["Location"] == "/auth/code"
    code = smtp_server.last_code(address)
    assert form("/auth/code", {"code": code}).headers["Location"] == "/auth/password"
    response = form("/auth/password", {"password": password, "confirmation": password})
    assert response.headers["Location"] == "/auth/about-you"
    return form("/auth/about-you", PROFILE)


def test_sign_up_by_email_with_code_from_real_smtp(client, form, smtp_server):
    response = sign_up(client, form, smtp_server)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Яна" in home
    user = User.get(User.email == EMAIL)
    assert (user.last_name, user.patronymic, user.birth_date) == (
        "Рощина",
        "Михайловна",
        dt.date(1992, 7, 22),
    )
    assert user.password_hash.startswith("$argon2id$")


def test_sign_up_by_phone_through_the_sms_gateway(client, form, sms_gateway):
    response = start_signup(form, PHONE_TYPED)
    assert response.headers["Location"] == "/auth/code"
    page = client.get("/auth/code").get_data(as_text=True)
    assert "+7 921 869-52-60" in page
    message = sms_gateway.sent[-1]
    assert message["to"] == PHONE and message["auth"] == "Bearer gateway-token"
    code = sms_gateway.last_code(PHONE)
    assert form("/auth/code", {"code": code}).headers["Location"] == "/auth/password"


def test_code_is_stored_only_as_a_keyed_hash(client, form, smtp_server):
    start_signup(form, EMAIL)
    code = smtp_server.last_code(EMAIL)
    stored = OneTimeCode.get(OneTimeCode.identifier == EMAIL)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at - stored.created_at == dt.timedelta(minutes=10)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("12345", "Номер мобильного телефона указан неверно"),
        ("+7 921", "Номер мобильного телефона указан неверно"),
        ("name@", "Это не похоже на адрес электронной почты"),
        ("", "Введите номер мобильного телефона или электронную почту"),
    ],
)
def test_malformed_identifier_is_refused_on_the_form(client, form, typed, message):
    response = start_signup(form, typed)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert OneTimeCode.select().count() == 0


def test_wrong_codes_count_down_and_the_fifth_kills_the_code(client, form, smtp_server):
    start_signup(form, EMAIL)
    right = smtp_server.last_code(EMAIL)
    wrong = "000000" if right != "000000" else "111111"
    expected = ["Осталось 4 попытки", "Осталось 3 попытки", "Осталось 2 попытки", "Осталась 1 попытка"]
    for left in expected:
        page = form("/auth/code", {"code": wrong}).get_data(as_text=True)
        assert left in page
    page = form("/auth/code", {"code": wrong}).get_data(as_text=True)
    assert "больше не действует" in page
    page = form("/auth/code", {"code": right}).get_data(as_text=True)
    assert "больше не действует" in page
    assert client.get("/auth/password").headers["Location"].endswith("/auth/signup")


def test_expired_code_is_refused(client, form, smtp_server):
    start_signup(form, EMAIL)
    code = smtp_server.last_code(EMAIL)
    OneTimeCode.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    page = form("/auth/code", {"code": code}).get_data(as_text=True)
    assert "Срок действия кода истёк" in page


def test_resend_waits_for_the_cooldown_and_a_new_code_replaces_the_old(client, form, smtp_server):
    start_signup(form, EMAIL)
    first = smtp_server.last_code(EMAIL)
    response = post_form(client, "/auth/code/resend", {}, page="/auth/code", follow_redirects=True)
    assert "Новый код можно запросить через" in response.get_data(as_text=True)
    OneTimeCode.update(created_at=utcnow() - dt.timedelta(seconds=61)).execute()
    sent_before = len(smtp_server.to(EMAIL))
    post_form(client, "/auth/code/resend", {}, page="/auth/code")
    assert len(smtp_server.to(EMAIL)) == sent_before + 1
    second = smtp_server.last_code(EMAIL)
    if first != second:
        assert "Неверный код" in form("/auth/code", {"code": first}).get_data(as_text=True)
    assert form("/auth/code", {"code": second}).headers["Location"] == "/auth/password"


def test_change_number_returns_to_the_first_step(client, form, smtp_server):
    start_signup(form, EMAIL)
    response = client.get("/auth/change")
    assert response.headers["Location"] == "/auth/signup"
    assert client.get("/auth/code").status_code == 302


def test_mismatched_passwords_are_refused(client, form, smtp_server):
    start_signup(form, EMAIL)
    form("/auth/code", {"code": smtp_server.last_code(EMAIL)})
    page = form("/auth/password", {"password": "correct horse 1", "confirmation": "correct horse 2"})
    assert "Пароли не совпадают" in page.get_data(as_text=True)
    assert User.select().count() == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"first_name": "Я" * 65}, "Не более 64 символов"),
        ({"last_name": "R2D2"}, "Используйте только буквы"),
        ({"birth_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "не может быть в будущем"),
        ({"birth_date": "31.02.2010"}, "Введите дату рождения"),
        ({"gender": "x"}, None),
    ],
)
def test_bad_profile_data_is_refused_and_nothing_is_saved(client, form, smtp_server, change, message):
    sign_up(client, form, smtp_server)
    before = User.get(User.email == EMAIL)
    response = form("/profile/edit", {**PROFILE, "first_name": "Анна", **change})
    assert response.status_code == 200
    if message:
        assert message in response.get_data(as_text=True)
    after = User.get(User.email == EMAIL)
    assert (after.first_name, after.last_name, after.birth_date, after.gender) == (
        before.first_name,
        before.last_name,
        before.birth_date,
        before.gender,
    )


def test_profile_must_be_completed_before_anything_else(client, form, smtp_server):
    start_signup(form, EMAIL)
    form("/auth/code", {"code": smtp_server.last_code(EMAIL)})
    form("/auth/password", {"password": "correct horse 1", "confirmation": "correct horse 1"})
    assert client.get("/").headers["Location"] == "/auth/about-you"
    assert client.get("/profile").headers["Location"] == "/auth/about-you"


def test_sign_in_does_not_reveal_whether_an_account_exists(client, form, demo):
    unknown = form("/auth/login", {"identifier": "+7 900 123-45-67", "password": "whatever1"})
    wrong = form("/auth/login", {"identifier": "+7 900 000-00-02", "password": "whatever1"})
    assert unknown.status_code == wrong.status_code == 200
    for response in (unknown, wrong):
        assert "Неверный телефон, почта или пароль" in response.get_data(as_text=True)


def test_sign_in_and_sign_out(client, auth, demo):
    auth.login("+7 900 000-00-02")
    assert "Гимназия №1" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "Войти" in client.get("/").get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_after_three_wrong_passwords_the_right_one_needs_a_code(client, form, auth, demo, sms_gateway):
    for _ in range(3):
        form("/auth/login", {"identifier": "+79000000002", "password": "wrong-password"})
    response = form("/auth/login", {"identifier": "+79000000002", "password": "parta-demo"})
    assert response.headers["Location"] == "/auth/code"
    assert client.get("/profile").status_code == 302
    code = sms_gateway.last_code("+79000000002")
    assert form("/auth/code", {"code": code}).headers["Location"] == "/"
    assert client.get("/profile").status_code == 200
    assert User.get(User.phone == "+79000000002").failed_signins == 0


def test_password_reset_by_code_ends_other_sessions(app, client, form, auth, demo, sms_gateway):
    other_device = app.test_client()
    post_form(other_device, "/auth/login", {"identifier": "+79000000002", "password": "parta-demo"})
    assert other_device.get("/profile").status_code == 200

    assert form("/auth/reset", {"identifier": "+7 900 000-00-02"}).headers["Location"] == "/auth/code"
    form("/auth/code", {"code": sms_gateway.last_code("+79000000002")})
    response = form("/auth/reset/password", {"password": "new password 1", "confirmation": "new password 1"})
    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200
    assert other_device.get("/profile").status_code == 302
    auth.logout()
    auth.login("+79000000002", "new password 1")


def test_reset_for_an_unknown_account_looks_the_same_and_sends_nothing(client, form, sms_gateway):
    sent = len(sms_gateway.sent)
    response = form("/auth/reset", {"identifier": "+7 900 765-43-21"})
    assert response.headers["Location"] == "/auth/code"
    page = client.get("/auth/code").get_data(as_text=True)
    assert "Новый код можно запросить через" in page
    assert len(sms_gateway.sent) == sent
    assert "Неверный код" in form("/auth/code", {"code": "123456"}).get_data(as_text=True)


def test_sign_up_with_a_taken_number_leads_to_not_me_without_data(client, form, demo, sms_gateway):
    start_signup(form, "+7 900 000-00-02")
    response = form("/auth/code", {"code": sms_gateway.last_code("+79000000002")})
    assert response.headers["Location"] == "/auth/exists"
    page = client.get("/auth/exists").get_data(as_text=True)
    assert "Яна Р." in page and "Рощина" not in page and "Это не я" in page
    not_me = client.get("/auth/not-me").get_data(as_text=True)
    assert "Яна" not in not_me
    assert client.get("/auth/password").status_code == 302
    assert User.select().where(User.phone == "+79000000002").count() == 1


def test_a_failing_sms_gateway_gives_a_clear_message_and_stores_no_code(client, form, sms_gateway):
    sms_gateway.fail = True
    response = start_signup(form, PHONE_TYPED)
    assert "не удалось отправить код" in response.get_data(as_text=True)
    assert OneTimeCode.select().count() == 0


def test_a_failing_mail_server_keeps_the_previous_code_alive(app, client, form, smtp_server):
    start_signup(form, EMAIL)
    code = smtp_server.last_code(EMAIL)
    OneTimeCode.update(created_at=utcnow() - dt.timedelta(seconds=61)).execute()
    app.config["SMTP_PORT"] = 1  # nothing listens there
    response = post_form(client, "/auth/code/resend", {}, page="/auth/code", follow_redirects=True)
    assert "не удалось отправить код" in response.get_data(as_text=True)
    assert OneTimeCode.select().count() == 1
    assert form("/auth/code", {"code": code}).headers["Location"] == "/auth/password"
