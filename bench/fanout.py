"""Chat fan-out: `python -m bench.fanout --clients N --rate R --seconds S [--baseline] [--connect-only]`.

Starts Parta as production runs it (eventlet, SQLite, PARTA_ENV=production) in a subprocess,
puts N people in one group chat, signs each of them in over HTTP, connects N Socket.IO
clients (one asyncio loop, WebSocket transport), joins them to the chat, then sends R
messages a second for S seconds through the real send path (`chat:send` from a rotating
sender). Every client records each `chat:message` it receives. The result is one JSON line:
deliveries, lost (expected to a joined client, never received), duplicates, latency from
send to receipt (p50/p99), the server's peak RSS and the clients that never joined
(connect_failures; refused sign-ins count there too, and apart as sign_in_failures).

`--baseline` first runs the same load against bench/_baseline_server.py (Flask-SocketIO
broadcasting to a room, no database, no sign-in), prints its line, then Parta's, then the
ratio of the p99s. The client shares the machine with the server: the figures include that
contention, which is why the client does no more than count and time what arrives.
"""
import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
SIGN_IN_CONCURRENCY = 4  # argon2 blocks the server's hub for each sign-in: more only queues
CONNECT_CONCURRENCY = 50  # eventlet.listen()'s backlog is 50
CALL_TIMEOUT = 30
PAGE_SIZE_SQLITE = 500  # rows per insert_many: below SQLite's bound-variable limit


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def populate(clients):
    """One school, ``clients`` people (the first a teacher) and one group chat of them all.

    Runs in a child process with the server's environment; prints the chat's id.
    """
    from app import create_app
    from blueprints.auth.actions import hash_password
    from db import database, migrate
    from db.models import Chat, ChatMember, Membership, School, User

    create_app()
    migrate.upgrade()
    password_hash = hash_password(PASSWORD)  # argon2 is slow: one hash serves everybody
    with database.connection_context(), database.atomic():
        school = School.create(full_name="Школа нагрузочного теста", short_name="Нагрузка", city="Москва")
        people = [
            {"email": f"u{i}@bench.example.org", "password_hash": password_hash,
             "first_name": "Ученик", "last_name": f"Нагрузочный {i}"}
            for i in range(clients)
        ]
        for start in range(0, len(people), PAGE_SIZE_SQLITE):
            User.insert_many(people[start:start + PAGE_SIZE_SQLITE]).execute()
        ids = [u.id for u in User.select(User.id).order_by(User.id)]
        memberships = [
            {"user": uid, "school": school.id, "role": Membership.TEACHER if n == 0 else Membership.STUDENT}
            for n, uid in enumerate(ids)
        ]
        chat = Chat.create(school=school, kind=Chat.GROUP, name="Нагрузка", created_by=ids[0])
        members = [{"chat": chat.id, "user": uid} for uid in ids]
        for rows, model in ((memberships, Membership), (members, ChatMember)):
            for start in range(0, len(rows), PAGE_SIZE_SQLITE):
                model.insert_many(rows[start:start + PAGE_SIZE_SQLITE]).execute()
    print(json.dumps({"chat_id": chat.id}))


# The servers ------------------------------------------------------------------------------


class Server:
    def __init__(self, command, env, workdir):
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.log_path = Path(workdir) / "server.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    async def wait_ready(self, http, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                async with http.get(self.base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not start; its log:\n{self.log_path.read_text(errors='replace')[-4000:]}")

    def rss_mb(self):
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def cpu_seconds(self):
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def start_parta(workdir, clients, message_queue):
    port = free_port()
    env = {
        **os.environ,
        "PARTA_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(Path(workdir) / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir}/parta.db",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ASYNC_MODE": "eventlet",
        "RATELIMIT_ENABLED": "0",
        # Never used (everybody signs in with a password), but production refuses console backends.
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        "SMS_BACKEND": "http",
        "SMS_GATEWAY_URL": "http://127.0.0.1:9/",
        "SOCKETIO_MESSAGE_QUEUE": message_queue or "",
    }
    made = subprocess.run(
        [sys.executable, "-c", f"from bench.fanout import populate; populate({clients})"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if made.returncode != 0:
        raise SystemExit(f"could not prepare the database:\n{made.stderr}")
    chat_id = json.loads(made.stdout.strip().splitlines()[-1])["chat_id"]
    return Server([sys.executable, "app.py"], env, workdir), chat_id


def start_baseline(workdir, message_queue):
    assert not message_queue, "the baseline runs without a message queue"
    env = {**os.environ, "PORT": str(free_port()), "ASYNC_MODE": "eventlet"}
    chat_id = 1  # the baseline has no chats of its own: any id names a room
    return Server([sys.executable, str(ROOT / "bench" / "_baseline_server.py")], env, workdir), chat_id


# The clients ------------------------------------------------------------------------------


async def sign_in(http, base, email):
    """The `session` cookie of ``email`` signed in with a password, or None."""
    async with http.get(base + "/auth/login") as response:
        page = await response.text()
        cookie = response.cookies.get("session")
    token = CSRF.search(page)
    if token is None or cookie is None:
        return None
    form = {"csrf_token": token.group(1), "identifier": email, "password": PASSWORD}
    headers = {"Cookie": f"session={cookie.value}"}
    async with http.post(base + "/auth/login", data=form, headers=headers, allow_redirects=False) as response:
        cookie = response.cookies.get("session")
        return cookie.value if response.status == 303 and cookie is not None else None


class Tally:
    """What every client received, keyed by the message's client_id."""

    def __init__(self):
        self.sent_at = {}  # client_id → perf_counter() at the emit
        self.acked = set()  # client_ids the server answered ok for
        self.ack_latencies = []  # emit to the server's answer, which leaves once the push is queued
        self.latencies = []
        self.duplicates = 0
        self.foreign = 0  # pushes of messages this run did not send

    def listener(self):
        seen = set()
        sent_at, latencies = self.sent_at, self.latencies
        perf_counter = time.perf_counter

        def on_message(data):
            now = perf_counter()
            client_id = data.get("client_id")
            sent = sent_at.get(client_id)
            if sent is None:
                self.foreign += 1
            elif client_id in seen:
                self.duplicates += 1
            else:
                seen.add(client_id)
                latencies.append(now - sent)

        on_message.seen = seen
        return on_message


class Member:
    def __init__(self, tally):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.on_message = tally.listener()
        self.sio.on("chat:message", self.on_message)
        self.joined = False


async def connect_member(member, base, cookie, chat_id, gate):
    async with gate:
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        try:
            await member.sio.connect(base, headers=headers, transports=["websocket"], wait_timeout=CALL_TIMEOUT)
            answer = await member.sio.call("chat:join", {"chat_id": chat_id, "after": 0}, timeout=CALL_TIMEOUT)
        except (socketio.exceptions.SocketIOError, OSError, asyncio.TimeoutError):
            return False
        member.joined = bool(answer and answer.get("ok"))
        return member.joined


async def send_one(member, chat_id, client_id, seq, tally, failures):
    payload = {"chat_id": chat_id, "client_id": client_id, "body": f"Сообщение №{seq}", "reply_to": None}
    tally.sent_at[client_id] = time.perf_counter()
    try:
        answer = await member.sio.call("chat:send", payload, timeout=CALL_TIMEOUT)
    except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
        failures.append(client_id)
        return
    if answer and answer.get("ok"):
        tally.ack_latencies.append(time.perf_counter() - tally.sent_at[client_id])
        tally.acked.add(client_id)
    else:
        failures.append(client_id)


def progress(mode, what):
    print(f"[{time.strftime('%H:%M:%S')}] {mode}: {what}", file=sys.stderr, flush=True)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return round(sorted_values[index] * 1000, 1)


async def run_load(mode, args):
    with tempfile.TemporaryDirectory(prefix=f"fanout-{mode}-") as workdir:
        if mode == "parta":
            server, chat_id = start_parta(workdir, args.clients, args.message_queue)
        else:
            server, chat_id = start_baseline(workdir, args.message_queue)
        try:
            return await drive(mode, server, chat_id, args)
        finally:
            server.stop()


class PeakRss:
    """The server's peak RSS, sampled every 0.2 s, kept apart per phase of the run."""

    def __init__(self, server):
        self.server = server
        self.phase = "sign_in"
        self.peaks = {"sign_in": 0.0, "run": 0.0}
        self._task = asyncio.create_task(self._sample())

    async def _sample(self):
        while True:
            self.take()
            await asyncio.sleep(0.2)

    def take(self):
        self.peaks[self.phase] = max(self.peaks[self.phase], self.server.rss_mb())

    def stop(self):
        self._task.cancel()
        self.take()


async def sign_in_everybody(mode, server, clients):
    """A session cookie per client ("" for the baseline, which has no sign-in; None if refused),
    and the seconds the sign-ins took."""
    connector = aiohttp.TCPConnector(limit=SIGN_IN_CONCURRENCY * 2)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        await server.wait_ready(http)
        progress(mode, f"server pid {server.process.pid} at {server.base}")
        if mode != "parta":
            return [""] * clients, 0.0
        progress(mode, f"signing in {clients} people")
        started = time.monotonic()
        gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

        async def one(i):
            async with gate:
                try:
                    return await sign_in(http, server.base, f"u{i}@bench.example.org")
                except aiohttp.ClientError:
                    return None

        cookies = await asyncio.gather(*(one(i) for i in range(clients)))
        return cookies, time.monotonic() - started


async def send_at_rate(live, chat_id, rate, seconds, tally):
    """Send ``rate`` messages a second for ``seconds``, each from the next client in turn."""
    run_token = secrets.token_hex(4)  # tells this run's messages from any other's
    failures, sends = [], []
    start = time.monotonic()
    for seq in range(int(rate * seconds)):
        delay = start + seq / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = live[seq % len(live)]
        sends.append(asyncio.create_task(send_one(sender, chat_id, f"{run_token}-{seq:07d}", seq, tally, failures)))
    await asyncio.gather(*sends)
    return failures


async def drive(mode, server, chat_id, args):
    rss = PeakRss(server)  # sign-ins are kept apart: each argon2 check takes 64 MiB for a moment
    cookies, sign_in_seconds = await sign_in_everybody(mode, server, args.clients)

    rss.phase = "run"
    progress(mode, f"connecting {args.clients} clients")
    tally = Tally()
    signed_in = [(Member(tally), cookie) for cookie in cookies if cookie is not None]
    members = [member for member, _cookie in signed_in]
    started = time.monotonic()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    await asyncio.gather(*(connect_member(m, server.base, c, chat_id, gate) for m, c in signed_in))
    connect_seconds = time.monotonic() - started
    live = [m for m in members if m.joined]
    rss_connected = server.rss_mb()

    rate = 0 if args.connect_only else args.rate
    failures = []
    cpu_server, cpu_client, wall = server.cpu_seconds(), time.process_time(), time.monotonic()
    if rate > 0 and live:
        progress(mode, f"{len(live)} joined; sending {rate}/s for {args.seconds} s")
        failures = await send_at_rate(live, chat_id, rate, args.seconds, tally)
        expected = len(tally.acked) * len(live)
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and delivered(live, tally) < expected:
            await asyncio.sleep(0.1)
    elif args.connect_only:
        progress(mode, f"{len(live)} joined; holding for {args.seconds} s")
        await asyncio.sleep(args.seconds)
    wall = time.monotonic() - wall
    cpu_server = server.cpu_seconds() - cpu_server
    cpu_client = time.process_time() - cpu_client
    rss.stop()

    received = delivered(live, tally)
    expected = len(tally.acked) * len(live)
    still_connected = sum(1 for m in live if m.sio.connected)
    latencies = sorted(tally.latencies)
    acks = sorted(tally.ack_latencies)
    await disconnect_everybody(members)
    return {
        "mode": mode,
        "clients": args.clients,
        "rate": rate,
        "seconds": args.seconds,
        "sent": len(tally.acked),
        "deliveries": received,
        "lost": expected - received,
        "duplicates": tally.duplicates,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": percentile(latencies, 1.0),
        "ack_p50_ms": percentile(acks, 0.50),
        "ack_p99_ms": percentile(acks, 0.99),
        "server_rss_mb": round(rss.peaks["run"], 1),
        "server_rss_connected_mb": round(rss_connected, 1),
        "server_rss_sign_in_mb": round(rss.peaks["sign_in"], 1),
        "connect_failures": args.clients - len(live),
        "sign_in_failures": cookies.count(None),
        "send_failures": len(failures),
        "disconnected": len(live) - still_connected,
        "foreign": tally.foreign,
        "sign_in_s": round(sign_in_seconds, 1),
        "connect_s": round(connect_seconds, 1),
        # CPU per message, fan-out included: unlike latency, hardly moved by other work on the machine.
        "server_cpu_ms_per_message": round(1000 * cpu_server / len(tally.acked), 1) if tally.acked else None,
        "server_cpu_pct": round(100 * cpu_server / wall, 1) if wall > 1 else None,
        "client_cpu_pct": round(100 * cpu_client / wall, 1) if wall > 1 else None,
        "load_average": round(os.getloadavg()[0], 2),  # other work on the machine skews every figure
    }


async def disconnect_everybody(members):
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(member):
        async with gate:
            await member.sio.disconnect()

    await asyncio.gather(*(one(m) for m in members if m.sio.connected), return_exceptions=True)


def delivered(members, tally):
    """Distinct messages of this run that reached joined clients (the sender's own included)."""
    return sum(len(m.on_message.seen & tally.acked) for m in members)


def raise_file_limit():
    """Each client holds a socket, and so does the server for it: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main_async(args):
    results = []
    for mode in (["baseline"] if args.baseline else []) + ["parta"]:
        result = await run_load(mode, args)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.baseline and all(r["p99_ms"] for r in results):
        baseline, parta = results
        print(json.dumps({"p99_ratio": round(parta["p99_ms"] / baseline["p99_ms"], 2), "target": 1.5}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0, help="messages a second (0: connect only)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for late deliveries")
    parser.add_argument("--baseline", action="store_true", help="run the bare Flask-SocketIO server first")
    parser.add_argument("--connect-only", action="store_true", help="connect, join, hold --seconds, send nothing")
    parser.add_argument("--message-queue", default="",
                        help="SOCKETIO_MESSAGE_QUEUE for Parta, e.g. redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.baseline and args.message_queue:
        parser.error("--baseline has no message queue (bench/_baseline_server.py): run them apart")
    raise_file_limit()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
