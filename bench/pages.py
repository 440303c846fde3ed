"""Page weight: `python -m bench.pages` starts Parta with the demo data and reports, per page,
the bytes transferred cold (empty cache) and warm, the requests, the JavaScript bytes and
the server's median time to answer the page. The last line is one JSON object.

Sizes are what goes over the wire: compressed as served (gzip or brotli), headers excluded.
Cold is a first visit with an empty cache: the HTML, every stylesheet, script, icon and
picture it names (pictures below the fold too, lazy or not; `url()`s of the stylesheets),
and, since the page registers the service worker, /sw.js and the files the worker keeps on
install that the page itself did not already fetch. JavaScript bytes are all of the cold
visit's scripts: the page's, the worker and the scripts it keeps.
Warm is the next visit: the HTML again, plus every file whose cache lifetime does not cover
the visit (a revalidation answered 304 costs a request and no body bytes); the worker is
checked again (/sw.js, 304).
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
BUDGET_BYTES = 100 * 1024
CHAT_BUDGET_BYTES = 80 * 1024
CHAT_JS_BYTES = 45 * 1024
WARM_EXTRA_BYTES = 10 * 1024
FETCHED_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "manifest", "preload", "modulepreload"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
WORKER_SETTINGS = re.compile(r"\Aself\.PARTA_OFFLINE = (\{.*?\});\n")
DEMO_PASSWORD = "parta-demo"


class Resources(HTMLParser):
    """What a browser fetches for a page: scripts, stylesheets, icons, pictures, posters."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.registers_worker = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and FETCHED_RELS & set((attrs.get("rel") or "").lower().split()):
            self.urls.append(attrs["href"])
        elif tag in ("img", "source", "input") and (attrs.get("src") or attrs.get("srcset")):
            if tag == "input" and (attrs.get("type") or "").lower() != "image":
                return
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            if attrs.get("srcset"):  # the largest candidate, to be strict
                self.urls.append(attrs["srcset"].split(",")[-1].split()[0])
        elif tag == "video" and attrs.get("poster"):
            self.urls.append(attrs["poster"])
        if attrs.get("style"):
            self.urls += [a or b for a, b in CSS_URL.findall(attrs["style"])]

    def handle_data(self, data):
        if self.lasttag == "style":
            self.urls += [a or b for a, b in CSS_URL.findall(data)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(instance):
    port = free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": instance,
        "DATABASE_URL": f"sqlite:///{instance}/parta.db",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ASYNC_MODE": "eventlet",
        "RATELIMIT_ENABLED": "0",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "setup"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


def fetch(session, url, headers=None):
    response = session.get(url, headers={"Accept-Encoding": "br, gzip", **(headers or {})}, stream=True)
    body = response.raw.read(decode_content=False)
    return response, body


def kept_without_asking(response):
    """A year-long (or any positive) lifetime and no `no-cache`: the browser does not ask again."""
    control = response.headers.get("Cache-Control", "").lower()
    if "no-cache" in control or "no-store" in control:
        return False
    lifetime = re.search(r"max-age=(\d+)", control)
    return bool(lifetime and int(lifetime.group(1)) > 0)


def revalidate(session, url, response):
    """A warm visit's request for a file the browser keeps but must check: (requests, bytes)."""
    if "no-store" in response.headers.get("Cache-Control", "").lower():
        return 1, len(fetch(session, url)[1])
    conditions = {}
    if response.headers.get("ETag"):
        conditions["If-None-Match"] = response.headers["ETag"]
    if response.headers.get("Last-Modified"):
        conditions["If-Modified-Since"] = response.headers["Last-Modified"]
    return 1, len(fetch(session, url, conditions)[1])


def page_resources(url, text):
    """Every URL the page names for the browser to fetch (the stylesheets' url()s come later)."""
    parser = Resources()
    parser.feed(text)
    found = [urljoin(url, src) for src in parser.urls if not src.startswith("data:")]
    return list(dict.fromkeys(found))


def measure(session, base, path, repeats, note=""):
    url = base + path
    response, html = fetch(session, url)
    text = session.get(url).text
    queue = page_resources(url, text)
    origin = urlsplit(base).netloc
    fetched = {}  # url -> response
    cold, js, foreign = len(html), 0, []
    while queue:
        resource = queue.pop(0)
        if resource in fetched or resource in foreign:
            continue
        if urlsplit(resource).netloc != origin:
            foreign.append(resource)
            continue
        answer, body = fetch(session, resource)
        fetched[resource] = answer
        cold += len(body)
        if resource.split("?")[0].endswith(".js"):
            js += len(body)
        if resource.split("?")[0].endswith(".css"):
            queue += [urljoin(resource, a or b) for a, b in CSS_URL.findall(session.get(resource).text)]
    worker_bytes = 0
    checked_again = dict(fetched)  # what a warm visit may ask for: not the worker's own store
    if any("/js/offline.js" in r for r in fetched):  # offline.js registers /sw.js on load
        answer, body = fetch(session, base + "/sw.js")
        fetched[base + "/sw.js"] = checked_again[base + "/sw.js"] = answer
        worker_bytes += len(body)
        js += len(body)
        settings = json.loads(WORKER_SETTINGS.match(session.get(base + "/sw.js").text).group(1))
        for kept in [*settings["shell"], settings["offline"]]:
            kept_url = urljoin(base, kept)
            if kept_url in fetched:  # already in the HTTP cache: cache.add() takes it from there
                continue
            answer, body = fetch(session, kept_url)
            fetched[kept_url] = answer
            worker_bytes += len(body)
            if kept.split("?")[0].endswith(".js"):
                js += len(body)
    warm_requests, warm_extra = 1, 0
    for resource, answer in checked_again.items():
        if kept_without_asking(answer):
            continue
        requests_made, size = revalidate(session, resource, answer)
        warm_requests += requests_made
        warm_extra += size
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "path": path,
        "note": note,
        "status": response.status_code,
        "cold_bytes": cold + worker_bytes,
        "page_bytes": cold,
        "worker_bytes": worker_bytes,
        "cold_requests": 1 + len(fetched) + len(foreign),
        "warm_bytes": len(html) + warm_extra,
        "warm_extra_bytes": warm_extra,
        "warm_requests": warm_requests,
        "js_bytes": js,
        "foreign_requests": len(foreign),
        "median_ms": round(statistics.median(timings), 2),
    }


def over_budget(row):
    """The budget's reasons this page breaks, if any."""
    reasons = []
    if row["cold_bytes"] > BUDGET_BYTES:
        reasons.append("first load > 100 KB")
    if row["is_chat"] and row["cold_bytes"] > CHAT_BUDGET_BYTES:
        reasons.append("chat first load > 80 KB")
    if row["is_chat"] and row["js_bytes"] > CHAT_JS_BYTES:
        reasons.append("chat JS > 45 KB")
    if row["warm_extra_bytes"] > WARM_EXTRA_BYTES:
        reasons.append("warm visit > 10 KB besides the HTML")
    if row["foreign_requests"]:
        reasons.append("requests to another origin")
    return reasons


def csrf(page):
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def sign_in(session, base, identifier):
    token = csrf(session.get(base + "/auth/login").text)
    session.post(base + "/auth/login", data={"csrf_token": token, "identifier": identifier, "password": DEMO_PASSWORD})


def start_lesson(session, base):
    """A lesson in a class chat, called by its teacher («Позвонить всем»): the call screen."""
    chat = first(r'href="(/chats/\d+)"', session.get(base + "/chats?kind=class").text)
    form = session.get(base + chat + "/call").text
    answer = session.post(base + chat + "/call", data={"csrf_token": csrf(form), "everyone": "1", "kind": "lesson"},
                          allow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"could not start a lesson in {chat}: {answer.status_code}")
    return answer.headers["Location"]


def fill_chat(session, base, count):
    """The demo class chat, grown to ``count`` messages through the no-JavaScript send form."""
    chat = re.search(r'href="(/chats/\d+)"', session.get(base + "/chats").text).group(1)
    page = session.get(base + chat).text
    present = len(re.findall(r'<article id="m\d+"', page))
    for n in range(count - present):
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        session.post(base + chat + "/messages", data={
            "csrf_token": token, "client_id": f"bench{n:04d}{time.time_ns()}",
            "body": f"Сообщение {n}: задача № {200 + n}, решение в тетради, проверим на уроке.",
        })
    return chat


def picture(width, height, seed):
    """A photo-like JPEG: a colour gradient with grain, about as heavy as a phone's photo."""
    from io import BytesIO

    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), (40 * seed % 256, 120, 200))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    photo = Image.blend(Image.blend(gradient, tint, 0.5), grain, 0.12)
    out = BytesIO()
    photo.save(out, "JPEG", quality=85)
    return out.getvalue()


def article_with_pictures(session, base, school):
    """An article with a cover, four photos under the text and an illustration in it, published
    through the editor as a teacher publishes one: the heaviest article page there is."""
    editor = session.get(base + school + "/articles/new").text
    upload = session.post(
        base + school + "/articles/illustrations", headers={"X-CSRFToken": csrf(editor)},
        files={"picture": ("схема.jpg", picture(1200, 800, 1), "image/jpeg")},
    )
    illustration = upload.json()["url"]
    body = (f"<p>Фотографии с урока-экскурсии.</p><p><img src=\"{illustration}\"></p>"
            "<p>Спасибо всем, кто пришёл.</p>")
    files = [("cover", ("обложка.jpg", picture(1200, 630, 2), "image/jpeg"))]
    files += [("photos", (f"фото-{n}.jpg", picture(1600, 1200, 3 + n), "image/jpeg")) for n in range(4)]
    answer = session.post(base + school + "/articles/new", data={
        "csrf_token": csrf(editor), "title": "Экскурсия в планетарий", "body": body, "action": "publish",
    }, files=files)
    return urlsplit(answer.url).path


def first(pattern, text):
    return re.search(pattern, text).group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        process, base = start_server(instance)
        try:
            session = requests.Session()
            pages = [("/", "landing"), ("/auth/login", ""), ("/help", "help centre, signed out")]
            results = [measure(session, base, path, args.repeats, note) for path, note in pages]
            sign_in(session, base, "+79000000002")  # Яна, class teacher of 7А
            school = first(r'href="(/schools/\d+)"', session.get(base + "/").text)
            class_page = first(r'href="(/schools/\d+/classes/\d+)"', session.get(base + school + "/classes").text)
            chat = fill_chat(session, base, 50)
            articles = session.get(base + school + "/articles").text
            article = first(r'href="(/schools/\d+/articles/\d+)"', articles)
            pictured = article_with_pictures(session, base, school)
            folder = first(r'href="(/schools/\d+/documents/folders/\d+)"', session.get(base + school + "/documents").text)
            section = first(r'href="(/help/(?!ask|questions|q/)[\w-]+)"', session.get(base + "/help").text)
            lesson = start_lesson(session, base)
            pages = [
                ("/", "home"), (school, "school"), (school + "/participants", ""), (school + "/classes", ""),
                (class_page, "class"), ("/profile", ""), ("/notifications", ""), ("/contacts", ""),
                ("/chats", ""), (chat, "chat, 50 messages"), (school + "/articles", "articles"),
                (article, "article with a cover"), (pictured, "article: cover, 4 photos, a picture in the text"),
                (school + "/documents", "school documents"), (folder, "a school folder"),
                ("/documents", "my documents"), ("/help", "help centre"), (section, "help section"),
                (school + "/articles/new", "editor: the only page with Quill"),
                (lesson, "video lesson: the call screen"),
            ]
            for path, note in pages:
                row = measure(session, base, path, args.repeats, note)
                row["is_chat"] = path == chat
                results.append(row)
        finally:
            process.terminate()
            process.wait(timeout=10)
    for row in results:
        row.setdefault("is_chat", False)
        row["over_budget"] = over_budget(row)
        print(
            f"{row['path']:<30} {row['status']} cold {row['cold_bytes']:>7} B (page {row['page_bytes']:>6}"
            f" + worker {row['worker_bytes']:>6})  warm {row['warm_bytes']:>6} B (+{row['warm_extra_bytes']:>5})"
            f"  requests {row['cold_requests']:>2}/{row['warm_requests']:>2}  js {row['js_bytes']:>6} B"
            f"  median {row['median_ms']:>6} ms  {row['note']}"
            + (f"  OVER: {', '.join(row['over_budget'])}" if row["over_budget"] else "")
        )
    over = [r["path"] for r in results if r["over_budget"]]
    print(json.dumps({"pages": results, "over_budget": over}, ensure_ascii=False))


if __name__ == "__main__":
    main()
