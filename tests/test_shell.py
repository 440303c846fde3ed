"""The shell: pages, access, language, static files, Socket.IO."""
import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from blueprints.extensions import socketio
from conftest import post_form
from db.models import School, User

ROOT = Path(__file__).resolve().parents[1]


def test_guests_see_the_landing_page_in_russian(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Войти" in page and "Создать аккаунт" in page


def test_demo_teacher_sees_her_school(client, auth, demo):
    auth.login("+7 900 000-00-02")
    home = client.get("/").get_data(as_text=True)
    assert "Гимназия №1" in home
    school = School.get(School.short_name == "Гимназия №1")
    page = client.get(f"/schools/{school.id}").get_data(as_text=True)
    classes = page.split('class="chips"')[1].split("</ul>")[0]
    assert classes.index(">7А<") < classes.index(">11А<")  # by year, not as strings
    assert "Рощина Яна Михайловна" in page and "+7 495 000-00-01" in page
    assert "8 участников" in page


ANONYMOUS, STUDENT, PARENT, TEACHER, ADMIN, OUTSIDER = (
    None,
    "masha@example.org",
    "+79000000010",
    "+79000000002",
    "+79000000001",
    "outsider@example.org",
)


@pytest.fixture
def outsider(demo):
    """An administrator of another school."""
    from blueprints.auth.actions import hash_password
    from db.models import Membership

    other = School.create(full_name="Школа №2", short_name="Школа №2", city="Тверь")
    user = User.create(
        email=OUTSIDER, password_hash=hash_password("parta-demo"), first_name="Иван", last_name="Чужой"
    )
    Membership.create(user=user, school=other, role=Membership.ADMIN)
    return user


@pytest.mark.parametrize(
    "who, expected",
    [
        (ANONYMOUS, 302),
        (STUDENT, 200),
        (PARENT, 200),
        (TEACHER, 200),
        (ADMIN, 200),
        (OUTSIDER, 404),
    ],
)
def test_school_page_is_open_to_its_members_only(client, auth, outsider, who, expected):
    school = School.get(School.short_name == "Гимназия №1")
    if who:
        auth.login(who)
    response = client.get(f"/schools/{school.id}")
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")


def test_an_unknown_school_is_404_for_members_too(client, auth, demo):
    auth.login(TEACHER)
    assert client.get("/schools/99999").status_code == 404


@pytest.mark.parametrize("path", ["/profile", "/profile/edit", "/schools", "/auth/about-you"])
def test_personal_pages_need_a_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("path", ["/", "/contacts", "/auth/login", "/auth/signup", "/auth/reset", "/auth/not-me"])
def test_public_pages_open_without_sign_in(client, path):
    assert client.get(path).status_code == 200


def test_my_school_goes_straight_to_the_only_school(client, auth, demo):
    auth.login(STUDENT)
    response = client.get("/schools")
    assert response.status_code == 302 and response.headers["Location"].startswith("/schools/")


def test_profile_shows_only_the_person_and_their_schools(client, auth, demo):
    auth.login(STUDENT)
    page = client.get("/profile").get_data(as_text=True)
    assert "Иванова Мария Олеговна" in page and "masha@example.org" in page
    assert "9 мая 2012" in page
    assert "Рощина" not in page


def test_language_switch_for_a_guest_uses_a_cookie(client):
    response = post_form(client, "/language", {"locale": "en", "next": "/auth/login"}, page="/")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Forgot your password?" in page
    post_form(client, "/language", {"locale": "ru"}, page="/")
    assert "Забыли пароль?" in client.get("/auth/login").get_data(as_text=True)


def test_language_choice_is_kept_with_the_account(app, client, auth, demo):
    auth.login(TEACHER)
    post_form(client, "/language", {"locale": "en"}, page="/")
    assert User.get(User.phone == TEACHER).locale == "en"
    elsewhere = app.test_client()
    post_form(elsewhere, "/auth/login", {"identifier": TEACHER, "password": "parta-demo"})
    assert "Hello, Яна!" in elsewhere.get("/").get_data(as_text=True)


def test_unknown_language_and_foreign_return_address_are_ignored(client):
    response = post_form(client, "/language", {"locale": "xx", "next": "https://evil.example/"}, page="/")
    assert response.headers["Location"] == "/"
    assert '<html lang="ru">' in client.get("/").get_data(as_text=True)


def test_unknown_page_is_a_friendly_404_in_russian(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Такой страницы нет" in response.get_data(as_text=True)


def test_static_files_are_served_compressed_with_a_long_cache(client):
    subprocess.run(
        [sys.executable, "-m", "whitenoise.compress", str(ROOT / "static")],
        check=True,
        capture_output=True,
    )
    page = client.get("/").get_data(as_text=True)
    css_url = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert "?v=" in css_url
    response = client.get(css_url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert b":root" in gzip.decompress(response.get_data())


def test_every_script_and_style_comes_from_our_own_origin(client, auth, demo):
    auth.login(TEACHER)
    for path in ("/", "/profile", "/auth/login"):
        page = client.get(path).get_data(as_text=True)
        for marker in ('src="http', "src=\"//", 'href="http', 'href="//'):
            assert marker not in page, (path, marker)


def test_socket_connection_needs_a_signed_in_person(app, client, auth, demo):
    anonymous = socketio.test_client(app, flask_test_client=client)
    assert not anonymous.is_connected()
    auth.login(TEACHER)
    signed_in = socketio.test_client(app, flask_test_client=client)
    assert signed_in.is_connected()
    signed_in.disconnect()


def test_healthz_answers_when_the_database_does(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_pages_are_sent_compressed(client):
    response = client.get("/auth/login", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] in ("br", "gzip")
    assert "Accept-Encoding" in response.headers["Vary"]
