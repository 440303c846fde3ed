"""Registering a school (SPEC §2, seed [000]): the application, the operator's decision, the CLI."""
from email.header import decode_header, make_header

import pytest

from conftest import ROLES, post_form
from db.models import Membership, Notification, RosterPerson, School, SchoolApplication, User

APPLY = "/schools/apply"
NEW_PHONE = "+79218695260"
NEW_EMAIL = "director@school7.example.org"
APPLICATION = {
    "full_name": "Муниципальное бюджетное общеобразовательное учреждение «Средняя школа №7»",
    "short_name": "Школа №7",
    "country": "Россия",
    "region": "Псковская область",
    "city": "Великие Луки",
    "admin_name": "Лебедева Анна Сергеевна",
    "admin_phone": "8 (921) 869-52-60",
    "admin_email": "Director@School7.example.org",
}


def apply(client, **changes):
    return post_form(client, APPLY, {**APPLICATION, **changes})


def text(response):
    return response.get_data(as_text=True)


def make_application(**changes):
    fields = {
        **APPLICATION,
        "admin_phone": NEW_PHONE,
        "admin_email": NEW_EMAIL,
        **changes,
    }
    return SchoolApplication.create(**fields)


def operator_client(signed_in):
    return signed_in("operator")


def accept(client, application):
    url = f"/operator/applications/{application.id}"
    return post_form(client, f"{url}/accept", {}, page=url)


def reject(client, application, reason):
    url = f"/operator/applications/{application.id}"
    return post_form(client, f"{url}/reject", {"reason": reason}, page=url)


# The application form ----------------------------------------------------------------------


def test_anyone_can_apply_and_gets_a_thank_you_page(client, demo, smtp_server):
    response = apply(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/schools/apply/sent"
    page = text(client.get("/schools/apply/sent"))
    assert "Спасибо" in page and "в течение 24 часов" in page
    assert NEW_EMAIL in page
    application = SchoolApplication.get()
    assert (application.short_name, application.city, application.region) == (
        "Школа №7",
        "Великие Луки",
        "Псковская область",
    )
    assert application.admin_phone == NEW_PHONE
    assert application.admin_email == NEW_EMAIL
    assert application.applicant is None
    assert application.status == SchoolApplication.PENDING


def test_the_operator_is_notified_of_a_new_application(client, demo):
    apply(client)
    notice = Notification.get(Notification.user == demo["operator"])
    assert "Школа №7" in notice.text
    assert notice.link == f"/operator/applications/{SchoolApplication.get().id}"


def test_a_signed_in_applicant_is_remembered_and_their_details_offered(signed_in, demo):
    client = signed_in("teacher")
    page = text(client.get(APPLY))
    assert "Рощина Яна Михайловна" in page and "+79000000002" in page
    apply(client)
    assert SchoolApplication.get().applicant_id == demo["teacher"].id


def test_the_thank_you_page_needs_an_application_of_this_browser(client, demo):
    assert client.get("/schools/apply/sent").headers["Location"] == APPLY


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"admin_phone": "12345"}, "Номер мобильного телефона указан неверно"),
        ({"admin_phone": "+7 495 000-00-01"}, "Номер мобильного телефона указан неверно"),
        ({"admin_phone": ""}, "Введите номер мобильного телефона"),
        ({"admin_email": "director@"}, "Это не похоже на адрес электронной почты"),
        ({"admin_email": ""}, "Введите адрес электронной почты"),
        ({"full_name": "   "}, "Заполните это поле"),
        ({"short_name": ""}, "Заполните это поле"),
        ({"region": ""}, "Заполните это поле"),
        ({"city": ""}, "Заполните это поле"),
        ({"country": ""}, "Заполните это поле"),
        ({"admin_name": ""}, "Заполните это поле"),
        ({"admin_name": "Анна"}, "Укажите фамилию и имя"),
        ({"admin_name": "Анна 2000"}, "Используйте только буквы"),
        ({"full_name": "Ш" * 256}, "Не более 255 символов"),
        ({"short_name": "Ш" * 129}, "Не более 128 символов"),
        ({"city": "Г" * 129}, "Не более 128 символов"),
        ({"region": "Р" * 129}, "Не более 128 символов"),
        ({"admin_name": "Лебедева " + "А" * 200}, "Не более 200 символов"),
    ],
)
def test_bad_input_is_refused_on_the_form_and_changes_nothing(client, demo, changes, message):
    response = apply(client, **changes)
    assert response.status_code == 200
    assert message in text(response)
    assert SchoolApplication.select().count() == 0
    assert Notification.select().count() == 0


def test_the_same_school_cannot_wait_twice(client, demo):
    apply(client)
    response = apply(client)
    assert response.status_code == 200
    assert "Заявка на эту школу уже ждёт решения" in text(response)
    assert SchoolApplication.select().count() == 1


def test_submissions_are_limited_per_address_but_mistakes_do_not_count(client, demo):
    for _attempt in range(3):
        apply(client, admin_phone="12345")
    for number in range(5):
        assert apply(client, city=f"Город {number}").status_code == 303
    assert apply(client, city="Город 6").status_code == 429
    assert SchoolApplication.select().count() == 5


# Accepting -------------------------------------------------------------------------------


def test_accept_creates_the_school_and_makes_an_existing_account_its_admin(
    signed_in, demo, smtp_server
):
    application = make_application(admin_phone="+79000000021", admin_email="marina@example.org")
    operator = operator_client(signed_in)
    response = accept(operator, application)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/operator/applications/{application.id}"
    assert "Заявка принята" in text(operator.get(response.headers["Location"]))

    school = School.get(School.short_name == "Школа №7")
    assert (school.full_name, school.city, school.region, school.country) == (
        APPLICATION["full_name"],
        "Великие Луки",
        "Псковская область",
        "Россия",
    )
    application = SchoolApplication.get_by_id(application.id)
    assert application.status == SchoolApplication.ACCEPTED and application.school_id == school.id
    marina = demo["lyceum_admin"]
    membership = Membership.get((Membership.user == marina) & (Membership.school == school))
    assert (membership.role, membership.position) == ("admin", "Администратор")
    assert RosterPerson.select().count() == 0

    mail = smtp_server.to("marina@example.org")[-1]
    body = mail.get_payload(decode=True).decode()
    assert str(make_header(decode_header(mail["Subject"]))) == "«Школа №7» зарегистрирована в Парте"
    assert "принята" in body and "http://localhost/auth/login" in body

    notice = Notification.select().where(Notification.user == marina).order_by(Notification.id.desc()).get()
    assert "администратор" in notice.text and notice.link == f"/schools/{school.id}"
    assert signed_in("other_school_admin").get(f"/schools/{school.id}").status_code == 200


def test_accept_lets_the_administrator_in_when_they_sign_up_later(
    app, signed_in, demo, smtp_server, sms_gateway
):
    applicant = signed_in("teacher")
    apply(applicant)
    application = SchoolApplication.get()
    accept(operator_client(signed_in), application)
    school = School.get(School.short_name == "Школа №7")
    entry = RosterPerson.get(RosterPerson.school == school)
    assert (entry.sourced_id, entry.role, entry.phone, entry.email) == (
        f"application-{application.id}",
        "admin",
        NEW_PHONE,
        NEW_EMAIL,
    )
    assert (entry.family_name, entry.given_name, entry.middle_name) == ("Лебедева", "Анна", "Сергеевна")

    body = smtp_server.to(NEW_EMAIL)[-1].get_payload(decode=True).decode()
    assert "http://localhost/auth/signup" in body and "+7 921 869-52-60" in body
    notice = Notification.get(Notification.user == demo["teacher"])
    assert "принята" in notice.text

    newcomer = app.test_client()
    post_form(newcomer, "/auth/signup", {"identifier": "8 921 869-52-60"})
    code = sms_gateway.last_code(NEW_PHONE)
    assert post_form(newcomer, "/auth/code", {"code": code}).headers["Location"] == "/auth/password"
    password = {"password": "correct horse 1", "confirmation": "correct horse 1"}
    post_form(newcomer, "/auth/password", password)
    profile = {
        "last_name": "Лебедева",
        "first_name": "Анна",
        "patronymic": "Сергеевна",
        "gender": "f",
        "birth_date": "1981-04-02",
    }
    post_form(newcomer, "/auth/about-you", profile)
    assert newcomer.get("/schools").headers["Location"] == f"/schools/{school.id}"
    assert "Школа №7" in text(newcomer.get(f"/schools/{school.id}"))
    anna = User.get(User.phone == NEW_PHONE)
    assert Membership.get((Membership.user == anna) & (Membership.school == school)).role == "admin"


# Rejecting --------------------------------------------------------------------------------


def test_reject_needs_a_reason_and_tells_the_applicant(signed_in, demo, smtp_server):
    apply(signed_in("teacher"))
    application = SchoolApplication.get()
    operator = operator_client(signed_in)

    response = reject(operator, application, "   ")
    assert response.status_code == 200
    assert "Укажите, почему заявка отклонена" in text(response)
    assert SchoolApplication.get_by_id(application.id).status == SchoolApplication.PENDING

    reason = "Не указан ИНН школы: пришлите заявку ещё раз."
    response = reject(operator, application, reason)
    assert response.status_code == 303
    application = SchoolApplication.get_by_id(application.id)
    assert (application.status, application.reason) == (SchoolApplication.REJECTED, reason)
    assert application.decided_at is not None
    assert School.select().where(School.short_name == "Школа №7").count() == 0

    body = smtp_server.to(NEW_EMAIL)[-1].get_payload(decode=True).decode()
    assert "отклонена" in body and reason in body and "http://localhost/schools/apply" in body
    notice = Notification.get(Notification.user == demo["teacher"])
    assert "отклонена" in notice.text and reason in notice.text


def test_a_too_long_reason_is_refused(signed_in, demo):
    application = make_application()
    response = reject(operator_client(signed_in), application, "я" * 1001)
    assert response.status_code == 200
    assert "Не более 1000 символов" in text(response)
    assert SchoolApplication.get_by_id(application.id).status == SchoolApplication.PENDING


@pytest.mark.parametrize("first", ["accept", "reject"])
@pytest.mark.parametrize("second", ["accept", "reject"])
def test_deciding_twice_is_refused(signed_in, demo, smtp_server, first, second):
    application = make_application()
    operator = operator_client(signed_in)
    decide = {"accept": lambda: accept(operator, application),
              "reject": lambda: reject(operator, application, "Дубликат.")}
    decide[first]()
    state = SchoolApplication.get_by_id(application.id)
    schools, mails = School.select().count(), len(smtp_server.to(NEW_EMAIL))

    response = decide[second]()
    assert response.status_code == 303
    page = text(operator.get(response.headers["Location"]))
    assert "Решение по этой заявке уже принято" in page
    again = SchoolApplication.get_by_id(application.id)
    assert (again.status, again.reason, again.decided_at) == (state.status, state.reason, state.decided_at)
    assert School.select().count() == schools
    assert len(smtp_server.to(NEW_EMAIL)) == mails


def test_a_mail_server_that_is_down_does_not_undo_the_decision(app, signed_in, demo):
    application = make_application()
    operator = operator_client(signed_in)
    app.config["SMTP_PORT"] = 1
    response = reject(operator, application, "Дубликат.")
    assert response.status_code == 303
    page = text(operator.get(response.headers["Location"]))
    assert "письмо на director@school7.example.org отправить не удалось" in page
    assert SchoolApplication.get_by_id(application.id).status == SchoolApplication.REJECTED


# The operator's list -----------------------------------------------------------------------


def test_the_list_shows_pending_first_with_a_count(signed_in, demo, smtp_server):
    decided = make_application(short_name="Школа №1", full_name="Школа №1", city="Псков")
    make_application(short_name="Школа №2", full_name="Школа №2", city="Остров")
    make_application(short_name="Школа №3", full_name="Школа №3", city="Опочка")
    operator = operator_client(signed_in)
    reject(operator, decided, "Дубликат.")
    page = text(operator.get("/operator/applications"))
    assert "2 заявки ждут решения" in page
    assert page.index("Школа №2") < page.index("Школа №3") < page.index("Школа №1")
    assert "Отклонена" in page and "Ждёт решения" in page


def test_an_unknown_application_is_404(signed_in, demo):
    assert operator_client(signed_in).get("/operator/applications/999").status_code == 404


# Who may open what ---------------------------------------------------------------------------

OPERATOR_ROUTES = [
    ("get", "/operator/applications/{id}"),
    ("get", "/operator/applications"),
    ("post", "/operator/applications/{id}/accept"),
    ("post", "/operator/applications/{id}/reject"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, route", OPERATOR_ROUTES)
def test_only_the_operator_reaches_the_operator_area(signed_in, demo, smtp_server, role, method, route):
    application = make_application()
    client = signed_in(role)
    url = route.format(id=application.id)
    if method == "get":
        status = client.get(url).status_code
        expected = 200
    else:
        page = "/schools/apply"  # any page of ours carries a valid CSRF token
        status = post_form(client, url, {"reason": "Дубликат."}, page=page).status_code
        expected = 303
    assert status == (expected if role == "operator" else 404)
    if role != "operator":
        assert SchoolApplication.get_by_id(application.id).status == SchoolApplication.PENDING


@pytest.mark.parametrize("role", ROLES)
def test_everyone_can_open_the_application_form(signed_in, role):
    assert signed_in(role).get(APPLY).status_code == 200


# The CLI --------------------------------------------------------------------------------------


def test_cli_makes_an_existing_account_operator_and_revokes_it(app, demo):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-operator", "8 900 000-00-02"])
    assert result.exit_code == 0, result.output
    assert "now an operator" in result.output
    assert User.get(User.phone == "+79000000002").is_operator

    result = runner.invoke(args=["create-operator", "+79000000002", "--revoke"])
    assert result.exit_code == 0, result.output
    assert not User.get(User.phone == "+79000000002").is_operator


@pytest.mark.parametrize(
    "identifier, message",
    [("nobody@example.org", "must sign up first"), ("12345", "mobile phone number")],
)
def test_cli_refuses_unknown_accounts_and_bad_identifiers(app, demo, identifier, message):
    result = app.test_cli_runner().invoke(args=["create-operator", identifier])
    assert result.exit_code != 0
    assert message in result.output
    assert User.select().where(User.is_operator == True).count() == 1  # noqa: E712
