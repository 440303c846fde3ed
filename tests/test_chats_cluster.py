"""Two web processes, one chat: a message sent through either reaches a client of the other once.

Two real ``python app.py`` servers (eventlet) share one SQLite file and a Redis message queue,
as when several web processes run behind a proxy. A member listens on process A; another
sends on process B, once through the plain form (the no-JavaScript path) and once through
the socket. Each ``chat:message`` must reach A's client exactly once, and resending a
message, even through the other process, must push nothing.

Needs Redis at 127.0.0.1:6379. Redis pub/sub ignores database numbers, so other runs on
the same Redis may publish on the same channel: pushes are told apart by their client ids.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from conftest import CSRF_FIELD

REPO = Path(__file__).resolve().parents[1]
REDIS = ("127.0.0.1", 6379)
STARTUP_TIMEOUT = 30.0
DELIVERY_TIMEOUT = 10.0
QUIET_AFTER = 0.5  # how long to keep listening for a second copy once the first arrived
MESSAGE_ANCHOR = re.compile(r"#m(\d+)$")

PREPARE = """
import json
from app import create_app
from blueprints.chats.actions import do_create_chat
from db import database, demo, migrate
from db.models import School, User
create_app()
migrate.upgrade()
with database.connection_context():
    demo.load()
    teacher = User.get(User.phone == "+79000000002")
    student = User.get(User.email == "masha@example.org")
    school = School.get(School.short_name == "Гимназия №1")
    chat = do_create_chat(teacher, school, "Two processes", [student.id])
print(json.dumps({"chat_id": chat.id}))
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers():
    try:
        with socket.create_connection(REDIS, timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class WebProcess:
    def __init__(self, name, env, root):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO, env={**env, "PORT": str(self.port)},
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def healthy(self):
        try:
            return requests.get(self.url + "/healthz", timeout=1).ok
        except requests.ConnectionError:
            return False

    def log(self, last=4000):
        return self.log_path.read_text(errors="replace")[-last:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Processes A and B serving one database, and the id of a chat of masha and her teacher."""
    if not redis_answers():
        pytest.fail(f"Redis does not answer at {REDIS[0]}:{REDIS[1]}: start it (apt-get install redis-server)",
                    pytrace=False)
    root = tmp_path_factory.mktemp("cluster")
    env = {
        **os.environ,
        "PARTA_ENV": "development",
        "SECRET_KEY": uuid.uuid4().hex,  # both processes must read each other's session cookies
        "INSTANCE_PATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'parta.db'}",
        "HOST": "127.0.0.1",
        "ASYNC_MODE": "eventlet",
        "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
        "SOCKETIO_CHANNEL": f"parta-test-{uuid.uuid4().hex[:8]}",  # no other run's pushes
        "RATELIMIT_ENABLED": "0",
        "MAIL_BACKEND": "console",
        "SMS_BACKEND": "console",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("PROXY_COUNT", "SESSION_COOKIE_SECURE"):  # plain http on loopback, no proxy
        env.pop(name, None)
    prepared = subprocess.run([sys.executable, "-c", PREPARE], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
    assert prepared.returncode == 0, prepared.stderr
    chat_id = int(re.search(r'"chat_id": (\d+)', prepared.stdout).group(1))

    processes = [WebProcess("a", env, root), WebProcess("b", env, root)]
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not all(p.healthy() for p in processes):
            exited = [p for p in processes if p.process.poll() is not None]
            if exited or time.monotonic() > deadline:
                pytest.fail("a web process did not start:\n" + "\n".join(p.log() for p in processes),
                            pytrace=False)
            time.sleep(0.2)
        yield {"a": processes[0], "b": processes[1], "chat_id": chat_id}
    finally:
        for process in processes:
            process.stop()


def signed_in(base, identifier):
    session = requests.Session()
    page = session.get(base + "/auth/login").text
    token = CSRF_FIELD.search(page).group(1)
    response = session.post(base + "/auth/login", allow_redirects=False,
                            data={"csrf_token": token, "identifier": identifier, "password": "parta-demo"})
    assert response.status_code == 303, f"{identifier} could not sign in"
    return session


class Listener:
    """A Socket.IO client that keeps every ``chat:message`` it is pushed."""

    def __init__(self, base, session):
        self.pushes = []
        self._arrived = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("chat:message", self._keep)
        cookie = f"session={session.cookies['session']}"
        self.sio.connect(base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)

    def _keep(self, data):
        with self._arrived:
            self.pushes.append(data)
            self._arrived.notify_all()

    def join(self, chat_id):
        answer = self.sio.call("chat:join", {"chat_id": chat_id, "after": 0}, timeout=10)
        assert answer["ok"], answer

    def copies_of(self, client_id):
        """The pushes of message ``client_id``, once it arrived and a moment passed for a second copy."""
        with self._arrived:
            self._arrived.wait_for(lambda: self._of(client_id), timeout=DELIVERY_TIMEOUT)
        time.sleep(QUIET_AFTER)
        with self._arrived:
            return self._of(client_id)

    def _of(self, client_id):
        return [p for p in self.pushes if p.get("client_id") == client_id]


@pytest.fixture(scope="module")
def people(cluster):
    """masha listening on process A; her teacher signed in on process B, with a socket there too."""
    student = signed_in(cluster["a"].url, "masha@example.org")
    teacher = signed_in(cluster["b"].url, "+79000000002")
    listener = Listener(cluster["a"].url, student)
    listener.join(cluster["chat_id"])
    teacher_socket = Listener(cluster["b"].url, teacher)
    try:
        yield {"student": student, "listener": listener, "teacher": teacher, "teacher_socket": teacher_socket}
    finally:
        listener.sio.disconnect()
        teacher_socket.sio.disconnect()


def post_message(session, base, chat_id, client_id, body):
    page = session.get(f"{base}/chats/{chat_id}").text
    token = CSRF_FIELD.search(page).group(1)
    return session.post(f"{base}/chats/{chat_id}/messages", allow_redirects=False,
                        data={"csrf_token": token, "client_id": client_id, "body": body})


def test_a_form_post_on_one_process_reaches_a_socket_of_the_other_once(cluster, people):
    client_id = uuid.uuid4().hex
    response = post_message(people["teacher"], cluster["b"].url, cluster["chat_id"], client_id,
                            "Завтра контрольная по алгебре")
    assert response.status_code == 303
    message_id = int(MESSAGE_ANCHOR.search(response.headers["Location"]).group(1))

    copies = people["listener"].copies_of(client_id)

    assert len(copies) == 1, f"{len(copies)} copies reached process A's client\n{cluster['a'].log()}"
    assert copies[0]["id"] == message_id
    assert copies[0]["chat_id"] == cluster["chat_id"]
    assert "Завтра контрольная по алгебре" in copies[0]["html"]
    assert not CSRF_FIELD.search(copies[0]["html"]), "the sender's CSRF token went out to the chat"


def test_a_socket_send_on_one_process_reaches_a_socket_of_the_other_once(cluster, people):
    client_id = uuid.uuid4().hex
    answer = people["teacher_socket"].sio.call("chat:send", {
        "chat_id": cluster["chat_id"], "client_id": client_id, "body": "Не забудьте тетради", "reply_to": None,
    }, timeout=10)
    assert answer["ok"] and answer["created"], answer

    copies = people["listener"].copies_of(client_id)

    assert len(copies) == 1, f"{len(copies)} copies reached process A's client\n{cluster['a'].log()}"
    assert copies[0]["id"] == answer["id"]
    assert "Не забудьте тетради" in copies[0]["html"]


def test_resending_through_the_other_process_pushes_nothing(cluster, people):
    client_id = uuid.uuid4().hex
    first = post_message(people["teacher"], cluster["b"].url, cluster["chat_id"], client_id, "Собрание в 18:00")
    assert first.status_code == 303
    assert len(people["listener"].copies_of(client_id)) == 1

    again = post_message(people["teacher"], cluster["a"].url, cluster["chat_id"], client_id, "Собрание в 18:00")

    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert len(people["listener"].copies_of(client_id)) == 1


def test_the_other_process_fills_the_gap_from_the_shared_database(cluster, people):
    client_id = uuid.uuid4().hex
    sent = post_message(people["teacher"], cluster["b"].url, cluster["chat_id"], client_id, "Фото с экскурсии")
    message_id = int(MESSAGE_ANCHOR.search(sent.headers["Location"]).group(1))

    missed = people["student"].get(f"{cluster['a'].url}/chats/{cluster['chat_id']}/since/{message_id - 1}")

    assert missed.status_code == 200
    assert f'id="m{message_id}"' in missed.text
    assert "Фото с экскурсии" in missed.text
