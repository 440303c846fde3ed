"""A school network that drops all UDP: the lesson still reaches the student through coturn
over TCP, with the credentials the web app hands out (blueprints/lessons/media.py).

The test builds the network itself: a network namespace joined to the root namespace by a
veth pair, and inside it an nftables (or iptables) rule set dropping every UDP packet both
ways. coturn and the rtc process run in the root namespace, like on the school's server; the
rtc process's API stays on loopback, and the students in the namespace (tests/turn_student.py)
signal through this process over stdin/stdout, as browsers do through the web app.

Needs root and ``ip netns``; coturn (and nftables when neither nft nor iptables exists) is
installed with apt-get when missing, as `make test` does up front. Timing is never asserted:
every wait has a generous deadline, for a loaded 2-core machine.
"""
import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from blueprints.lessons import media
from conftest import free_port, run_async
from rtc.synthetic import LessonPeer, SyntheticAudioTrack

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[1]
STUDENT = Path(__file__).with_name("turn_student.py")
DEADLINE = 60  # seconds for anything that should take one
CONNECT_DEADLINE = 150  # the TURN student: gathering over TCP, ICE, DTLS, then 50 frames
BLOCKED_DEADLINE = 90  # the student without TURN: ICE must give up (aioice: ~40 s) by then
FRAMES = 50  # one second of 20 ms Opus frames, decoded by the student
NFT_TABLE = "parta_no_udp"


def _run(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=120)


def _netns_available():
    if shutil.which("ip") is None:
        return False
    return subprocess.run(["ip", "netns", "list"], capture_output=True).returncode == 0


def _apt_install(*packages):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=900)
    result = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"apt-get install {' '.join(packages)} failed:\n{result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def network_tools():
    """Root, ip netns, coturn and a packet filter; installs coturn/nftables when missing."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the test makes a network namespace, a veth pair and firewall rules")
    if not _netns_available():
        pytest.skip("`ip netns` is unavailable (iproute2 missing or network namespaces not permitted)")
    missing = []
    if shutil.which("turnserver") is None:
        missing.append("coturn")
    if shutil.which("nft") is None and shutil.which("iptables") is None:
        missing.append("nftables")
    if missing:
        _apt_install(*missing)
        if "coturn" in missing and shutil.which("systemctl"):
            # Debian's package also starts a system-wide turnserver without authentication on
            # every address; the test runs its own, so stop that one.
            subprocess.run(["systemctl", "disable", "--now", "coturn"], capture_output=True, timeout=120)
    assert shutil.which("turnserver"), "coturn installed but turnserver is not on PATH"
    return "nft" if shutil.which("nft") else "iptables"


def _free_subnet():
    """A /30 of 10.203.0.0/16 that no interface of this machine uses yet."""
    used = set(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", _run("ip", "-o", "-4", "addr").stdout))
    subnets = list(ipaddress.ip_network("10.203.0.0/16").subnets(new_prefix=30))
    random.shuffle(subnets)
    for subnet in subnets:
        if not any(ipaddress.ip_address(a) in subnet for a in used):
            return subnet
    raise AssertionError("no free /30 in 10.203.0.0/16")


class FilteredNetwork:
    """A namespace behind a veth pair whose firewall drops every UDP packet, in and out."""

    def __init__(self, firewall):
        tag = secrets.token_hex(3)
        self.ns = f"parta-turn-{tag}"
        self.outer, self.inner = f"pt{tag}o", f"pt{tag}i"  # interface names: 15 chars at most
        subnet = _free_subnet()
        first, second = list(subnet.hosts())
        self.outer_ip, self.inner_ip, self.prefix = str(first), str(second), subnet.prefixlen
        self.firewall = firewall

    def exec(self, *args, check=True):
        return _run("ip", "netns", "exec", self.ns, *args, check=check)

    def create(self):
        _run("ip", "netns", "add", self.ns)
        _run("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        _run("ip", "link", "set", self.inner, "netns", self.ns)
        _run("ip", "addr", "add", f"{self.outer_ip}/{self.prefix}", "dev", self.outer)
        _run("ip", "link", "set", self.outer, "up")
        self.exec("ip", "addr", "add", f"{self.inner_ip}/{self.prefix}", "dev", self.inner)
        self.exec("ip", "link", "set", self.inner, "up")
        self.exec("ip", "link", "set", "lo", "up")
        if self.firewall == "nft":
            rules = (
                f"table inet {NFT_TABLE} {{\n"
                "  chain input { type filter hook input priority 0; policy accept; meta l4proto udp counter drop; }\n"
                "  chain output { type filter hook output priority 0; policy accept; meta l4proto udp counter drop; }\n"
                "}\n"
            )
            subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], input=rules,
                           text=True, check=True, capture_output=True, timeout=60)
        else:
            self.exec("iptables", "-A", "INPUT", "-p", "udp", "-j", "DROP")
            self.exec("iptables", "-A", "OUTPUT", "-p", "udp", "-j", "DROP")

    def udp_dropped(self):
        """Packets the namespace's firewall has dropped so far (both directions)."""
        if self.firewall == "nft":
            listing = self.exec("nft", "list", "table", "inet", NFT_TABLE).stdout
            return sum(int(n) for n in re.findall(r"counter packets (\d+)", listing))
        listing = self.exec("iptables", "-L", "-v", "-x", "-n").stdout
        return sum(int(line.split()[0]) for line in listing.splitlines()
                   if line.split()[2:3] == ["udp"] and "DROP" in line)

    def destroy(self):
        # Deleting the namespace deletes its veth end and with it the peer; say so anyway.
        _run("ip", "netns", "del", self.ns, check=False)
        _run("ip", "link", "del", self.outer, check=False)


@pytest.fixture
def filtered_network(network_tools):
    network = FilteredNetwork(network_tools)
    try:
        network.create()
        yield network
    finally:
        network.destroy()
    assert network.ns not in _run("ip", "netns", "list").stdout
    assert network.outer not in _run("ip", "-o", "link").stdout


def _port_free_on(address):
    port = random.randint(20000, 40000)
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((address, port))
            except OSError:
                return None
    return port


class Coturn:
    """turnserver on the veth's root-side address: TURN over TCP and UDP, shared-secret auth."""

    def __init__(self, address, directory):
        self.address = address
        self.port = next(p for p in iter(lambda: _port_free_on(address), 0) if p)
        self.secret = secrets.token_urlsafe(24)
        self.realm = "turn.parta.test"
        self.log = directory / "turnserver.log"
        self.config = directory / "turnserver.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"listening-ip={address}",
                    f"relay-ip={address}",
                    f"listening-port={self.port}",
                    "no-tls",
                    "no-dtls",
                    "use-auth-secret",
                    f"static-auth-secret={self.secret}",
                    f"realm={self.realm}",
                    "fingerprint",
                    # The rtc process's host candidates are this machine's own addresses.
                    "allow-loopback-peers",
                    "no-multicast-peers",
                    "no-cli",
                    "verbose",
                    f"log-file={self.log}",
                    "simple-log",
                    "no-stdout-log",
                    f"pidfile={directory / 'turnserver.pid'}",
                    f"userdb={directory / 'turndb'}",
                    "",
                ]
            )
        )
        self.process = None

    def start(self):
        # -c: only this file, never the machine's /etc/turnserver.conf.
        self.process = subprocess.Popen(["turnserver", "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + DEADLINE
        while True:
            assert self.process.poll() is None, f"turnserver exited: {self.log_text()}"
            try:
                socket.create_connection((self.address, self.port), timeout=2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"turnserver never listened on TCP: {self.log_text()}")
                time.sleep(0.2)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"


@pytest.fixture
def coturn(filtered_network, tmp_path):
    server = Coturn(filtered_network.outer_ip, tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def rtc(tmp_path):
    """`python -m rtc` as production runs it: API on loopback, media on the host's addresses."""
    port = free_port()
    log = open(tmp_path / "rtc.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "rtc"], cwd=ROOT,
                               env={**os.environ, "RTC_PORT": str(port), "RTC_HOST": "127.0.0.1"},
                               stdout=log, stderr=subprocess.STDOUT)
    process.base = f"http://127.0.0.1:{port}"
    process.log_path = tmp_path / "rtc.log"
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            assert process.poll() is None, (tmp_path / "rtc.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the rtc process never listened"
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def expected_credentials(secret, ttl, user_id, now):
    """coturn's REST-API scheme, written out independently of media.ice_servers."""
    username = f"{int(now) + ttl}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


async def eventually(predicate, timeout=DEADLINE, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


async def _audio_received(http, base, room):
    async with http.get(f"{base}/rooms/{room}") as response:
        state = await response.json()
        return state.get("received", {}).get("audio", 0) >= 25


class NamespaceStudent:
    """tests/turn_student.py in the filtered namespace; this process relays its signalling."""

    def __init__(self, network, peer, ice_servers, timeout, stderr_path):
        self.network, self.peer, self.ice_servers, self.timeout = network, peer, ice_servers, timeout
        self.stderr_path = stderr_path
        self.process = None
        self.answer = None

    async def _line(self, timeout):
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        assert line, f"student {self.peer.pid} exited early: {self.stderr_path.read_text()}"
        return json.loads(line)

    async def run(self):
        """Join, subscribe to the server's offer, answer from inside the namespace; the report."""
        await self.peer.join()
        _, offer = await self.peer.call("POST", "/subscribe", {"mode": "audio"})
        audio_mid = next(mid for mid, slot in offer["slots"].items() if slot == {"pid": "1", "kind": "audio"})
        with open(self.stderr_path, "w") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", self.network.ns, sys.executable, str(STUDENT),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr,
            )
        request = {"offer": {"sdp": offer["sdp"], "type": offer["type"]}, "ice_servers": self.ice_servers,
                   "audio_mid": audio_mid, "frames": FRAMES, "timeout": self.timeout}
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()
        self.answer = await self._line(DEADLINE)
        await self.peer.call("POST", "/subscribe/answer", self.answer["answer"])
        report = (await self._line(self.timeout + DEADLINE))["report"]
        await asyncio.wait_for(self.process.wait(), DEADLINE)
        return report

    def kill(self):
        if self.process is not None and self.process.returncode is None:
            self.process.kill()


def test_a_student_behind_a_udp_blocking_firewall_hears_the_lesson_through_coturn_over_tcp(
    app, filtered_network, coturn, rtc, tmp_path
):
    turn_url = f"turn:{coturn.address}:{coturn.port}?transport=tcp"
    now = time.time()
    with app.app_context():
        assert media.ice_servers(2, now=now) == []  # without TURN settings: host candidates only
        app.config.update(TURN_URLS=turn_url, TURN_SECRET=coturn.secret, TURN_TTL=600)
        ice_servers = media.ice_servers(2, now=now)
    username, password = expected_credentials(coturn.secret, 600, 2, now)
    assert ice_servers == [{"urls": [turn_url], "username": username, "credential": password}]

    room = str(random.randint(10**8, 10**9))

    async def scenario():
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{rtc.base}/rooms/{room}", json={"host": "1"}) as response:
                assert response.status == 200, await response.text()
            teacher = LessonPeer(http, rtc.base, room, "1", "host")
            await teacher.join()
            await teacher.publish([SyntheticAudioTrack()])
            assert await eventually(lambda: _audio_received(http, rtc.base, room)), \
                "the rtc process never received the teacher's audio"
            dropped_before = filtered_network.udp_dropped()
            with_turn = NamespaceStudent(filtered_network, LessonPeer(http, rtc.base, room, "2"),
                                         ice_servers, CONNECT_DEADLINE, tmp_path / "student-turn.log")
            without_turn = NamespaceStudent(filtered_network, LessonPeer(http, rtc.base, room, "3"),
                                            [], BLOCKED_DEADLINE, tmp_path / "student-plain.log")
            try:
                reports = await asyncio.gather(with_turn.run(), without_turn.run())
            finally:
                with_turn.kill()
                without_turn.kill()
                await teacher.close()
                async with http.delete(f"{rtc.base}/rooms/{room}"):
                    pass
            return with_turn.answer, without_turn.answer, reports, dropped_before

    turn_answer, plain_answer, (turn_report, plain_report), dropped_before = run_async(scenario())
    context = (f"\nTURN student: {turn_report}\nplain student: {plain_report}\n"
               f"--- coturn log (tail) ---\n{coturn.log_text()[-4000:]}\n"
               f"--- rtc log ---\n{rtc.log_path.read_text()[-3000:]}")

    # The filter is real: the student without TURN offered its host address, and ICE failed
    # because every UDP check in either direction was dropped in the namespace.
    assert plain_answer["local_candidates"] == [
        {"type": "host", "host": filtered_network.inner_ip, "protocol": "udp"}
    ], context
    assert plain_report["frames"] == 0, context
    assert plain_report["pair"] is None, context
    assert "failed" in plain_report["ice_states"], context
    assert "completed" not in plain_report["ice_states"], context
    assert filtered_network.udp_dropped() > dropped_before, "the firewall dropped nothing"

    # The student with the web app's TURN credentials got a relay over TCP from coturn ...
    relays = [c for c in turn_answer["local_candidates"] if c["type"] == "relay"]
    assert relays and all(c["host"] == coturn.address for c in relays), context
    # ... used it, and decoded the teacher's audio.
    assert turn_report["frames"] >= FRAMES, context
    assert "completed" in turn_report["ice_states"], context
    pair = turn_report["pair"]
    assert pair is not None, context
    assert pair["local_type"] == "relay" and pair["local"][0] == coturn.address, context
    assert pair["turn_protocol"] == "TurnClientTcpProtocol", context
    assert pair["remote_type"] == "host", context  # the rtc process's own address, via coturn
    # coturn accepted the time-limited username made by media.ice_servers.
    log = coturn.log_text()
    assert f"user <{username}>" in log and "ALLOCATE processed, success" in log, context
