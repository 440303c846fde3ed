"""Browser tests: Debian's Chromium, driven by Playwright, against Parta run as production runs it.

``live_server`` starts the real application in a subprocess (``flask migrate``, then
``python app.py`` under eventlet) with a fresh SQLite database, real SMTP delivery to
``smtp_server`` (aiosmtpd on loopback) and the console SMS backend. Nothing here
downloads a browser: Chromium comes from the system (``apt-get install chromium``).
"""
import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Lessons: a synthetic camera and microphone, and their permission granted without a prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
STARTUP_TIMEOUT = 60.0
MEDIA_TEST_LIMIT = 240.0  # seconds a test with live calls may take (they take about 30)
MAIL_TIMEOUT = 10.0
EXPECT_TIMEOUT_MS = 20_000  # expect() polls up to this long for text, URLs and states
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def pytest_collection_modifyitems(config, items):
    """Every test in this directory drives a browser: mark it so `-m "not browser"` skips it."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.05):
    """Poll ``predicate`` until it returns something truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


# Mail -------------------------------------------------------------------------------


@dataclass
class Mail:
    to: list
    message: email.message.EmailMessage

    @property
    def subject(self):
        return str(self.message["Subject"])

    @property
    def body(self):
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def code(self):
        """The 6-digit code of «Parta confirmation code: 123456» (or its translation)."""
        found = CODE.search(self.body)
        assert found, f"no 6-digit code in the mail to {self.to}:\n{self.body}"
        return found.group(1)


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives, parsed."""

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = None
        self._mails = []
        self._taken = set()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._mails.append(Mail([a.lower() for a in envelope.rcpt_tos], message))
        return "250 OK"

    def to(self, address):
        """Every message received for ``address`` so far."""
        with self._lock:
            return [m for m in self._mails if address.lower() in m.to]

    def next_mail(self, address, timeout=MAIL_TIMEOUT):
        """The oldest message to ``address`` not returned before, waiting up to ``timeout`` s."""

        def take():
            with self._lock:
                for index, mail in enumerate(self._mails):
                    if index not in self._taken and address.lower() in mail.to:
                        self._taken.add(index)
                        return mail
            return None

        mail = wait_for(take, timeout)
        assert mail, f"no new mail reached {address} within {timeout} s"
        return mail

    def next_code(self, address, timeout=MAIL_TIMEOUT):
        return self.next_mail(address, timeout).code


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


# The application --------------------------------------------------------------------


def _compile_catalogs():
    """Compile translations/*.po when a catalog has no .mo yet (or an older one)."""
    stale = [
        po
        for po in (REPO / "translations").glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel)] if pybabel.exists() else [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(
        [*command, "compile", "-d", "translations"],
        cwd=REPO,
        check=False,
        capture_output=True,
    )


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen = None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def live_server_process(tmp_path_factory, smtp_server):
    """The real application, started as production starts it, on a free loopback port."""
    _compile_catalogs()
    root = tmp_path_factory.mktemp("live-server")
    instance = root / "instance"
    instance.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'parta.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ASYNC_MODE": "eventlet",
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMS_BACKEND": "console",
        "PARTA_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SECRET_KEY", "SOCKETIO_MESSAGE_QUEUE", "RATELIMIT_STORAGE_URI", "PROXY_COUNT"):
        env.pop(name, None)
    server = LiveServer(url=f"http://127.0.0.1:{port}", log_path=root / "server.log")

    migrated = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "migrate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if migrated.returncode != 0:
        pytest.fail(
            f"`flask --app app migrate` failed ({migrated.returncode}):\n"
            f"{migrated.stdout}\n{migrated.stderr}",
            pytrace=False,
        )

    # The lesson media process, as `make run` starts it beside the web process.
    rtc_port = free_port()
    env["RTC_PORT"] = str(rtc_port)
    env["RTC_URL"] = f"http://127.0.0.1:{rtc_port}"
    rtc_log = (root / "rtc.log").open("wb")
    rtc = subprocess.Popen([sys.executable, "-m", "rtc"], cwd=REPO, env=env, stdout=rtc_log, stderr=subprocess.STDOUT)

    log = server.log_path.open("wb")
    server.process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )

    def healthy():
        if server.process.poll() is not None:
            return "exited"
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                return "ok" if response.status == 200 else None
        except (urllib.error.URLError, OSError):
            return None

    state = wait_for(healthy, STARTUP_TIMEOUT, interval=0.2)
    if state != "ok":
        _stop(server.process)
        _stop(rtc)
        log.close()
        print(server.log(), file=sys.stderr)
        pytest.fail(
            f"the live server did not answer GET /healthz with 200 within {STARTUP_TIMEOUT:.0f} s "
            f"(process {state or 'still running'}); its log:\n{server.log()}",
            pytrace=False,
        )
    try:
        yield server
    finally:
        _stop(server.process)
        _stop(rtc)
        log.close()
        rtc_log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(server.log_path, ARTIFACTS / "live-server.log")
        shutil.copyfile(root / "rtc.log", ARTIFACTS / "rtc.log")


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(live_server_process):
    """The base URL of the running application, e.g. ``http://127.0.0.1:38211``."""
    return live_server_process.url


# The browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
            "these tests never download a browser",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _chromium_processes():
    """pid -> command line of every Chromium main process this test run started."""
    mine, parents = os.getpid(), {}
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if command and command[0].endswith(b"chromium") and b"--remote-debugging-pipe" in command:
            found[int(entry.name)] = command
    def descends(pid):
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == mine:
                return True
        return False
    return {pid for pid in found if descends(pid)}


@pytest.fixture
def media_browser(playwright, request):
    """A Chromium of the test's own, for calls (fake camera and microphone), with a watchdog.

    A lesson test once stopped for good inside a Playwright call that has no timeout of its
    own (evaluate, close) after two live calls in a long-running shared browser. Here such a
    test gets a fresh browser, and after MEDIA_TEST_LIMIT seconds the watchdog kills it: the
    call that hung then fails with its line in the traceback instead of holding up the run.
    """
    before = _chromium_processes()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    started = _chromium_processes() - before
    fired = threading.Event()

    def kill():
        fired.set()
        for pid in started:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    watchdog = threading.Timer(MEDIA_TEST_LIMIT, kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield chromium
    finally:
        watchdog.cancel()
        if fired.is_set():
            print(f"\n{request.node.nodeid}: stopped by the watchdog after {MEDIA_TEST_LIMIT:.0f} s", file=sys.stderr)
        try:
            chromium.close()
        except Exception:  # already killed by the watchdog
            pass


@pytest.fixture
def context(browser, live_server, request):
    """A fresh phone-sized context. ``@pytest.mark.no_service_worker`` blocks Parta's
    service worker: Chromium's DevTools throttling does not reach requests that pass
    through one, so a test that slows the network down needs it out of the way."""
    blocked = request.node.get_closest_marker("no_service_worker") is not None
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, locale="ru-RU", timezone_id="Europe/Moscow",
        service_workers="block" if blocked else "allow",
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context, request):
    """A fresh phone-sized page; a screenshot lands in test-artifacts/ if the test fails."""
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
        except Exception as error:  # the page may have crashed: keep the test's own error
            print(f"could not save a screenshot: {error}", file=sys.stderr)


@pytest.fixture
def server_log(live_server_process):
    """Read the live server's log (stdout and stderr) so far."""
    return live_server_process.log


LOAD_DEMO = """
from app import create_app
from db import database, demo
from db.models import User
app = create_app()
with app.app_context(), database.connection_context():
    if not User.select().where(User.email == "masha@example.org").exists():
        demo.load()
"""


@pytest.fixture(scope="session")
def demo_people(live_server_process):
    """The demo schools and people in the live server's database (loaded once)."""
    instance = Path(live_server_process.log_path).parent / "instance"
    env = {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'parta.db'}",
    }
    env.pop("SECRET_KEY", None)
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_DEMO], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode == 0, loaded.stderr
