"""Slow networks: `python -m bench.slownet` starts Parta with the demo data and drives Chromium
on emulated weak networks, EDGE and 3G, reporting for the class chat «7А — Математика»:

- usable cold: from navigation start, in a new browser context (empty cache), until the
  message box ``#body`` is painted, enabled and takes a typed character;
- usable warm: the same on a second visit in the same context;
- message seen: from pressing «Отправить» in the throttled page until the other participant,
  in an unthrottled context, has the message on screen (median of several);
- message received: the other way round, from the unthrottled participant;
- (relay only) warm on a new connection: a second visit after the idle connections closed.

Each figure is the median of ``--runs`` visits (3), each message figure over ``--repeats``.

Two emulations. The figures of each profile come from ``Link``, a relay on loopback that
slows every byte both ways (HTTP, WebSocket frames, what the service worker fetches) and
charges a round trip per new connection. Chromium's own emulation through CDP
(``Network.emulateNetworkConditions``: latency and throughput per HTTP request) is run too
and reported under "cdp", page loads only and with the service worker blocked, since it
slows neither WebSocket frames nor a service worker's fetches.

Times are the page's own clocks (``performance.timeOrigin + performance.now()``), so
Playwright's round trips do not count. The last line is one JSON object; ``--requests``
also prints each request of the cold and warm loads.
"""
import argparse
import asyncio
import json
import re
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass

import requests
from playwright.sync_api import sync_playwright

from bench.pages import fill_chat, sign_in, start_server

CHROMIUM = "/usr/bin/chromium"
CHAT = "7А — Математика"
SENDER = "masha@example.org"  # throttled: the pupil on a weak network
OTHER = "+79000000002"  # unthrottled: her teacher
MESSAGES_ON_PAGE = 50  # a full page of the chat (chats.actions.PAGE_SIZE)
PHONE = {"width": 390, "height": 844}


@dataclass
class Profile:
    down_kbit: int
    up_kbit: int
    rtt_ms: int

    def conditions(self):
        return {
            "offline": False,
            "latency": self.rtt_ms,
            "downloadThroughput": self.down_kbit * 1000 / 8,
            "uploadThroughput": self.up_kbit * 1000 / 8,
        }


PROFILES = {"EDGE": Profile(240, 200, 840), "3G": Profile(780, 330, 200)}
TARGETS = {"EDGE": {"usable_cold_ms": 6000, "usable_warm_ms": 2000, "message_seen_ms": 2500}}

class Link:
    """A weak link as a relay on loopback: every byte both ways, WebSocket frames included,
    waits for its turn on a pipe of the profile's throughput shared by all connections, then
    travels half the round trip; a new connection first pays one round trip (TCP handshake).
    """

    SEGMENT = 1460

    def __init__(self, upstream_port, profile):
        self.upstream_port = upstream_port
        self.delay = profile.rtt_ms / 2000
        self.rate = {"up": profile.up_kbit * 1000 / 8, "down": profile.down_kbit * 1000 / 8}
        self.free_at = {"up": 0.0, "down": 0.0}
        self.busy_until = 0.0
        self.writers = set()
        self.loop = asyncio.new_event_loop()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(listener, ready), daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, listener, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._connection, sock=listener))
        ready.set()
        self.loop.run_forever()

    def close(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def wait_until_quiet(self, quiet=1.0, timeout=60.0):
        """Wait until nothing has crossed the link for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < min(self.busy_until + quiet, deadline):
            time.sleep(0.05)

    def drop_connections(self):
        """Close the open connections, as an idle phone's would be after a while."""
        asyncio.run_coroutine_threadsafe(self._drop(), self.loop).result(timeout=10)

    async def _drop(self):
        for writer in list(self.writers):
            writer.close()

    async def _shutdown(self):
        self.server.close()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _due(self, direction, size, not_before):
        """When ``size`` bytes that arrive now reach the other end."""
        start = max(time.monotonic(), self.free_at[direction])
        self.free_at[direction] = start + size / self.rate[direction]
        due = max(self.free_at[direction] + self.delay, not_before)
        self.busy_until = max(self.busy_until, due)
        return due

    async def _connection(self, client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        handshake_done = time.monotonic() + 2 * self.delay
        self.writers |= {client_writer, server_writer}
        try:
            await asyncio.gather(
                self._pump(client_reader, server_writer, "up", handshake_done + self.delay),
                self._pump(server_reader, client_writer, "down", 0.0),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            pass  # the relay is closing; Python 3.11's start_server logs a cancelled callback
        finally:
            self.writers -= {client_writer, server_writer}
            client_writer.close()
            server_writer.close()

    async def _pump(self, reader, writer, direction, not_before):
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                if data is None:
                    writer.close()
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(data)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                for at in range(0, len(data), self.SEGMENT):
                    segment = data[at:at + self.SEGMENT]
                    queue.put_nowait((self._due(direction, len(segment), not_before), segment))
        finally:
            queue.put_nowait((0.0, None))
            await asyncio.gather(delivering, return_exceptions=True)


# In every document before its own scripts: note when #body takes its first character and
# when messages appear, by the page's clock.
PROBE = """
addEventListener("input", function (e) {
  if (e.target.id === "body" && !window.__typedAt) window.__typedAt = performance.now();
}, true);
addEventListener("submit", function () {
  window.__sentAt = performance.timeOrigin + performance.now();
}, true);
window.__seen = {};
new MutationObserver(function () {
  var list = document.getElementById("messages");
  if (!list) return;
  list.querySelectorAll(".msg-body").forEach(function (el) {
    var token = (el.textContent.match(/#slownet-[\\w-]+/) || [])[0];
    if (token && !window.__seen[token]) window.__seen[token] = performance.timeOrigin + performance.now();
  });
}).observe(document, {childList: true, subtree: true});
"""

READY = """() => {
  var box = document.getElementById("body");
  if (!box || box.disabled || box.readOnly) return false;
  if (!performance.getEntriesByName("first-contentful-paint").length) return false;
  var rect = box.getBoundingClientRect();
  return rect.width > 0 && rect.height > 0 && getComputedStyle(box).visibility === "visible";
}"""


def session_for(base, identifier):
    session = requests.Session()
    sign_in(session, base, identifier)
    return session


def class_chat(session, base):
    """The class chat, grown to a full page of messages (the pupil's first and only chat)."""
    chat = fill_chat(session, base, MESSAGES_ON_PAGE)
    title = re.search(r"<h1>(.*?)</h1>", session.get(base + chat).text).group(1)
    if title != CHAT:
        raise SystemExit(f"{SENDER}'s first chat is «{title}», not «{CHAT}» (db/demo.py makes it)")
    return chat


def new_context(browser, base, cookies, service_workers="allow"):
    """A browser context with an empty cache, signed in with ``cookies``."""
    context = browser.new_context(viewport=PHONE, base_url=base, locale="ru-RU", service_workers=service_workers)
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in cookies])
    context.add_init_script(PROBE)
    context.set_default_timeout(90_000)
    return context


def throttle(page, profile):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", profile.conditions())
    return cdp


def record_requests(page):
    """Each finished request of the page: (path, bytes with headers, start and end in ms)."""
    log = []

    def finished(request):
        timing, sizes = request.timing, request.sizes()
        log.append({
            "url": re.sub(r"^https?://[^/]+", "", request.url)[:60],
            "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
            "start_ms": timing["startTime"],
            "end_ms": timing["startTime"] + timing["responseEnd"] if timing["responseEnd"] >= 0 else None,
        })

    page.on("requestfinished", finished)
    return log


def time_until_usable(page, url):
    """Milliseconds from navigation start until #body took a typed character."""
    page.goto(url, wait_until="commit")
    page.wait_for_function(READY, polling=10)
    page.locator("#body").press_sequentially("x")
    typed = page.evaluate("window.__typedAt")
    assert page.locator("#body").input_value().endswith("x"), "the message box lost the typed character"
    page.locator("#body").fill("")
    return round(typed)


SERVICE_WORKER_READY = """async () => {
  if (!navigator.serviceWorker) return false;
  for (var i = 0; i < 200 && !(await navigator.serviceWorker.getRegistration()); i++)
    await new Promise(function (r) { setTimeout(r, 50); });
  if (!(await navigator.serviceWorker.getRegistration())) return false;
  await navigator.serviceWorker.ready;
  return true;
}"""


def message_seen(sender, receiver, token):
    """Milliseconds from «Отправить» in ``sender`` until ``receiver`` shows the message."""
    token = f"#slownet-{token}"
    sender.locator("#body").fill(f"Проверка связи {token}")
    sender.get_by_role("button", name="Отправить", exact=True).click()
    receiver.wait_for_function("t => window.__seen[t]", arg=token, polling=10)
    return round(receiver.evaluate("t => window.__seen[t]", token) - sender.evaluate("window.__sentAt"))


def measure(browser, server, chat, cookies, profile, emulation, repeats):
    """One profile under one emulation ("link" or "cdp"): the figures and each load's requests."""
    link = Link(int(server.rsplit(":", 1)[1]), profile) if emulation == "link" else None
    student = new_context(browser, link.url if link else server, cookies[SENDER],
                          service_workers="allow" if link else "block")
    teacher = new_context(browser, server, cookies[OTHER])
    run = f"{emulation}{profile.rtt_ms}-{time.monotonic_ns()}"
    row = {}
    try:
        page = student.new_page()
        log = record_requests(page)
        if not link:
            throttle(page, profile)
        row["usable_cold_ms"] = time_until_usable(page, chat)
        page.wait_for_load_state("load")
        # A returning visitor has the service worker that the first visit installed, and
        # comes back once it has done its work on the network.
        row["service_worker"] = bool(link) and page.evaluate(SERVICE_WORKER_READY)
        page.wait_for_timeout(500)
        if link:
            link.wait_until_quiet()
        loads = {"cold": list(log)}
        log.clear()
        page.goto("about:blank")
        row["usable_warm_ms"] = time_until_usable(page, chat)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        loads["warm"] = list(log)
        row.update(
            cold_requests=len(loads["cold"]), cold_bytes=sum(r["bytes"] for r in loads["cold"]),
            warm_requests=len(loads["warm"]), warm_bytes=sum(r["bytes"] for r in loads["warm"]),
        )
        if link:
            link.wait_until_quiet()
            page.goto("about:blank")
            link.drop_connections()
            row["usable_return_ms"] = time_until_usable(page, chat)
            page.wait_for_load_state("load")

            other = teacher.new_page()
            other.goto(chat)
            message_seen(page, other, f"{run}-warmup-sent")  # both sockets are up
            message_seen(other, page, f"{run}-warmup-received")
            page.wait_for_timeout(3000)  # Socket.IO moves from polling to its WebSocket
            seen = [message_seen(page, other, f"{run}-sent{n}") for n in range(repeats)]
            received = [message_seen(other, page, f"{run}-received{n}") for n in range(repeats)]
            row.update(
                message_seen_ms=round(statistics.median(seen)), message_seen_max_ms=max(seen),
                message_received_ms=round(statistics.median(received)),
            )
    finally:
        student.close()
        teacher.close()
        if link:
            link.close()
    return row, loads


def print_requests(loads):
    for name, rows in loads.items():
        start = min((r["start_ms"] for r in rows), default=0)
        for r in sorted(rows, key=lambda r: r["start_ms"]):
            end = "…" if r["end_ms"] is None else round(r["end_ms"] - start)
            print(f"    {name} {r['url']:<60} {r['bytes']:>7} B  {round(r['start_ms'] - start):>6}..{end} ms")


def median_row(rows):
    return {
        key: all(r[key] for r in rows) if isinstance(rows[0][key], bool) else round(statistics.median(r[key] for r in rows))
        for key in rows[0]
    }


def describe(name, profile, emulation, row):
    line = (
        f"{name:<4} {emulation:<4} ({profile.down_kbit}/{profile.up_kbit} kbit/s, {profile.rtt_ms} ms):"
        f" usable cold {row['usable_cold_ms']} ms ({row['cold_requests']} requests, {row['cold_bytes']} B),"
        f" warm {row['usable_warm_ms']} ms ({row['warm_requests']} requests, {row['warm_bytes']} B)"
    )
    if row["service_worker"]:
        line += " through the service worker"
    if "usable_return_ms" in row:
        line += f", warm on a new connection {row['usable_return_ms']} ms"
    if "message_seen_ms" in row:
        line += (
            f"; message seen by the other side {row['message_seen_ms']} ms (max {row['message_seen_max_ms']}),"
            f" from the other side {row['message_received_ms']} ms"
        )
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="visits per profile and emulation (medians reported)")
    parser.add_argument("--repeats", type=int, default=5, help="messages sent each way per run")
    parser.add_argument("--requests", action="store_true", help="print every request of the loads")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as instance:
        process, server = start_server(instance)
        try:
            sessions = {who: session_for(server, who) for who in (SENDER, OTHER)}
            cookies = {who: session.cookies for who, session in sessions.items()}
            chat = class_chat(sessions[SENDER], server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                for name, profile in PROFILES.items():
                    for emulation in ("link", "cdp"):
                        runs = [measure(browser, server, chat, cookies, profile, emulation, args.repeats)
                                for _ in range(args.runs)]
                        row, loads = median_row([row for row, _loads in runs]), runs[-1][1]
                        print(describe(name, profile, emulation, row))
                        if args.requests:
                            print_requests(loads)
                        if emulation == "link":
                            results[name] = row
                        else:
                            results[name]["cdp"] = row
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    results["targets_met"] = {
        f"{name} {key}": results[name][key] <= limit
        for name, targets in TARGETS.items() for key, limit in targets.items()
    }
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
