"""Fixtures in the flaskr style: ``app``, ``client``, ``auth``; and real mail and SMS peers.

The database is SQLite in a temporary directory, or PostgreSQL when
TEST_DATABASE_URL names a server: each test then gets its own empty schema in a
database made for this run.
"""
import asyncio
import email
import json
import os
import re
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from app import create_app
from blueprints.extensions import limiter
from db import database, migrate

CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")


# Databases --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own on the PostgreSQL server of TEST_DATABASE_URL, for this run."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    import psycopg2

    name = f"parta_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield base.rsplit("/", 1)[0] + "/" + name
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def database_url(tmp_path, postgres_url):
    if postgres_url is None:
        return f"sqlite:///{tmp_path / 'parta.db'}"
    import psycopg2

    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    return postgres_url


# Mail and SMS peers -------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """What a real SMTP server on loopback received."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address):
        with self._lock:
            return [m for rcpts, m in self.messages if address in rcpts]

    def last_code(self, address):
        found = self.to(address)
        assert found, f"no mail reached {address}"
        body = found[-1].get_payload(decode=True).decode()
        return CODE.search(body).group(1)


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


class SmsGateway(ThreadingHTTPServer):
    """An HTTP SMS gateway on loopback that keeps what it was asked to send."""

    def __init__(self):
        self.sent = []
        self.fail = False
        super().__init__(("127.0.0.1", 0), _GatewayHandler)

    def last_code(self, phone):
        texts = [m["text"] for m in self.sent if m["to"] == phone]
        assert texts, f"no SMS reached {phone}"
        return CODE.search(texts[-1]).group(1)


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.fail:
            self.send_response(503)
        else:
            self.server.sent.append({**body, "auth": self.headers.get("Authorization")})
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def sms_gateway():
    gateway = SmsGateway()
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    yield gateway
    gateway.shutdown()


# The application ------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, database_url, smtp_server, sms_gateway):
    sms_gateway.fail = False
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "ASYNC_MODE": "threading",
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_server.port,
            "SMS_BACKEND": "http",
            "SMS_GATEWAY_URL": f"http://127.0.0.1:{sms_gateway.server_port}/send",
            "SMS_GATEWAY_TOKEN": "gateway-token",
        }
    )
    migrate.upgrade()
    limiter.reset()
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url):
    page = client.get(url)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def post_form(client, url, data, page=None, **kwargs):
    """Submit a form the way a browser does: token from the page, then POST."""
    token = csrf_token(client, page or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


@pytest.fixture
def form(client):
    return lambda url, data, **kwargs: post_form(client, url, data, **kwargs)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, identifier, password="parta-demo"):
        response = post_form(
            self._client, "/auth/login", {"identifier": identifier, "password": password}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def logout(self):
        return post_form(self._client, "/auth/logout", {}, page="/")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def demo(app):
    """The demo school's people, keyed as in db/demo.py (password «parta-demo»)."""
    from db import demo

    with database.connection_context():
        return demo.load()


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# Roles, for the access matrices ------------------------------------------------------

ROLES = (
    "anonymous",
    "student",  # Мария, 7А
    "parent",  # Ольга, Мария's mother
    "teacher",  # Яна, class teacher of 7А
    "other_class_teacher",  # Пётр, class teacher of 11А (teaches 7А too, not its class teacher)
    "other_school_admin",  # Марина, administrator of «Лицей №2»
    "admin",  # Илья, administrator of «Гимназия №1»
    "operator",  # Вера, the platform operator
)
SIGN_IN = {
    "student": "masha@example.org",
    "parent": "+79000000010",
    "teacher": "+79000000002",
    "other_class_teacher": "+79000000003",
    "other_school_admin": "+79000000021",
    "admin": "+79000000001",
    "operator": "operator@example.org",
}


@pytest.fixture
def signed_in(app, demo):
    """``signed_in(role)``: a fresh test client signed in as that demo person."""

    def client_for(role):
        client = app.test_client()
        if role != "anonymous":
            AuthActions(client).login(SIGN_IN[role])
        return client

    return client_for


def gymnasium():
    """The demo's «Гимназия №1»."""
    from db.models import School

    return School.get(School.short_name == "Гимназия №1")


@contextmanager
def acting(app):
    """Calling actions directly, as a view would: they render what they push and build URLs,
    so they need a request context (with the app's) and a database connection."""
    with app.test_request_context(), database.connection_context():
        yield


def run_async(coroutine):
    """``asyncio.run(coroutine)`` in a thread of its own. Once the browser tests have run,
    Playwright's sync API keeps an event loop running in the main thread for the rest of
    the session, and asyncio refuses to start another one there."""
    outcome = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's own thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="asyncio-run")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
