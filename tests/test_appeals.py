"""Appeals to the school («Обращения в школу»): members write to the administration and follow
the answer; administrators see and answer all; outsiders 404, other members 403."""
import pytest

from conftest import ROLES, gymnasium, post_form
from db import database
from db.models import Appeal, AppealMessage, Notification

LIST = {"anonymous": 302, "other_school_admin": 404, "operator": 404}
THREAD = {"anonymous": 302, "student": 200, "admin": 200, "other_school_admin": 404, "operator": 404}


def write(client, subject="Расписание на четверг", text="Когда будет известно расписание?"):
    url = f"/schools/{gymnasium().id}/appeals"
    return post_form(client, url, {"subject": subject, "text": text})


@pytest.fixture
def students_appeal(signed_in):
    assert write(signed_in("student")).status_code == 303
    with database.connection_context():
        return Appeal.get(Appeal.subject == "Расписание на четверг")


@pytest.mark.parametrize("role", ROLES)
def test_who_opens_the_appeals_list(signed_in, role):
    response = signed_in(role).get(f"/schools/{gymnasium().id}/appeals")
    assert response.status_code == LIST.get(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_who_opens_an_appeal(signed_in, students_appeal, role):
    url = f"/schools/{gymnasium().id}/appeals/{students_appeal.id}"
    assert signed_in(role).get(url).status_code == THREAD.get(role, 403)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_reply_to_an_appeal(signed_in, students_appeal, role):
    url = f"/schools/{gymnasium().id}/appeals/{students_appeal.id}"
    client = signed_in(role)
    page = url if THREAD.get(role, 403) == 200 else "/help"
    response = post_form(client, url, {"text": "Ответ"}, page=page)
    expected = {"student": 303, "admin": 303}.get(role, THREAD.get(role, 403))
    assert response.status_code == expected
    with database.connection_context():
        count = AppealMessage.select().where(AppealMessage.appeal == students_appeal).count()
    assert count == (2 if expected == 303 else 1)


def test_an_appeal_goes_to_the_administrators_and_the_answer_back(signed_in, demo, students_appeal):
    with database.connection_context():
        told = Notification.select().where(
            (Notification.user == demo["admin"].id) & (Notification.kind == "appeal")
        ).get()
    assert "Расписание на четверг" in told.text
    url = f"/schools/{gymnasium().id}/appeals/{students_appeal.id}"
    assert told.link == url

    admin = signed_in("admin")
    assert "Расписание на четверг" in admin.get(f"/schools/{gymnasium().id}/appeals").get_data(as_text=True)
    post_form(admin, url, {"text": "Расписание будет в пятницу."})
    with database.connection_context():
        assert Appeal.get_by_id(students_appeal.id).status == Appeal.ANSWERED
        answer = Notification.get(
            (Notification.user == demo["student"].id) & (Notification.kind == "appeal_answer")
        )
    assert answer.link == url
    thread = signed_in("student").get(url).get_data(as_text=True)
    assert "Расписание будет в пятницу." in thread and "Администрация школы" in thread


def test_a_member_sees_only_their_own_appeals(signed_in, students_appeal):
    assert write(signed_in("teacher"), subject="Учительская").status_code == 303
    listing = signed_in("student").get(f"/schools/{gymnasium().id}/appeals").get_data(as_text=True)
    assert "Расписание на четверг" in listing and "Учительская" not in listing
    admins = signed_in("admin").get(f"/schools/{gymnasium().id}/appeals").get_data(as_text=True)
    assert "Расписание на четверг" in admins and "Учительская" in admins


def test_an_appeal_needs_a_subject_and_text(signed_in):
    response = write(signed_in("parent"), subject="", text="")
    assert response.status_code == 400
    assert "Кратко напишите, о чём обращение." in response.get_data(as_text=True)
    with database.connection_context():
        assert Appeal.select().count() == 0


def test_the_school_menu_links_to_appeals(signed_in):
    page = signed_in("student").get(f"/schools/{gymnasium().id}").get_data(as_text=True)
    assert f'href="/schools/{gymnasium().id}/appeals"' in page
