"""Accessibility: axe-core finds nothing serious on the main pages, and the keyboard gets around.

axe-core is a test tool, pinned in tests/browser/axe/ (``npm pack axe-core@4.14.1``, its
LICENSE beside it) and injected into the page under test; Parta never serves it.
Violations of impact «serious» or «critical» fail the page's test; the milder ones are
printed (``pytest -s``) so they stay visible.
"""
import base64
import hashlib
import io
from pathlib import Path

from PIL import Image

import pytest
from playwright.sync_api import expect

from .flows import create_class_chat, sign_in

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SRI = "sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="  # axe-core's sri-history.json
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}

ADMIN = "+79000000001"  # Илья, the gymnasium's administrator
TEACHER = "+79000000002"  # Яна, class teacher of 7А
STUDENT = "masha@example.org"  # Мария, 7А
OPERATOR = "operator@example.org"  # Вера, Parta's support
CLASS_CHAT = "7А — Математика"  # the demo's class chat, Яна and Мария among its members


def follow(page, name):
    """Open the link named ``name`` as a full page load (axe then sees a page, not a swap)."""
    href = page.get_by_role("link", name=name, exact=True).first.get_attribute("href")
    page.goto(href)


def school(page):
    page.goto("/")
    follow(page, "Моя школа")  # one school: straight to it


def participants(page):
    school(page)
    follow(page, "Участники")


def classes(page):
    school(page)
    follow(page, "Классы")


def class_page(page):
    classes(page)
    follow(page, "7А")


def chats(page):
    page.goto("/chats")


def chat(page):
    chats(page)
    page.goto(page.get_by_role("link", name=CLASS_CHAT).first.get_attribute("href"))  # name + last message
    expect(page.get_by_role("heading", level=1)).to_have_text(CLASS_CHAT)


def path(url):
    return lambda page: page.goto(url)


PAGES = [
    (None, "landing", path("/")),
    (None, "sign-in", path("/auth/login")),
    (None, "sign-up", path("/auth/signup")),
    (None, "contacts", path("/contacts")),
    *[
        (who, name, open_page)
        for who in ("teacher", "student")
        for name, open_page in [
            ("home", path("/")),
            ("school", school),
            ("participants", participants),
            ("classes", classes),
            ("class", class_page),
            ("profile", path("/profile")),
            ("notifications", path("/notifications")),
            ("chats", chats),
            ("chat", chat),
        ]
    ],
    ("admin", "class", class_page),  # both of the class page's forms: two fields named «teacher»
]


def class_chat_with_a_message(page):
    """The demo class chat as `make run` shows it; made through the teacher's pages when absent."""
    page.goto("/chats")
    if page.get_by_role("link", name=CLASS_CHAT).count():
        return
    class_page(page)
    create_class_chat(page, CLASS_CHAT)
    page.get_by_placeholder("Сообщение").fill("Добрый день, 7А! Домашнее задание: № 214, 215.")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("#messages .msg")).to_have_count(1)
    page.close()


@pytest.fixture(scope="module")
def people(browser, live_server, demo_people):
    """One signed-in browser context per person, shared by this module's pages."""
    contexts = {}
    for who, identifier in (("admin", ADMIN), ("teacher", TEACHER), ("student", STUDENT), ("operator", OPERATOR)):
        context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
        context.set_default_timeout(20_000)
        sign_in(context.new_page(), identifier)
        contexts[who] = context
    class_chat_with_a_message(contexts["teacher"].new_page())
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def page_as(people, context):
    """A new page for ``who`` (None: nobody signed in), closed after the test."""
    pages = []

    def open_for(who):
        page = (people[who] if who else context).new_page()
        pages.append(page)
        return page

    yield open_for
    for page in pages:
        page.close()


def jpeg(colour, size=(900, 500)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return {"name": "снимок.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


@pytest.fixture(scope="module")
def content(people):
    """What the help, articles, documents and appeals pages show, made through their own pages:
    an article with a cover and photos, a school folder, a question to support, an appeal."""
    urls = {}
    teacher = people["teacher"].new_page()
    school(teacher)
    urls["school"] = school_url = teacher.url.rstrip("/")
    teacher.goto(school_url + "/articles/new")
    teacher.get_by_label("Название").fill("Экскурсия в планетарий")
    teacher.locator(".ql-editor").click()
    teacher.keyboard.type("Фотографии с экскурсии 7А.")
    teacher.locator("input[name=cover]").set_input_files(jpeg((30, 90, 200)))
    teacher.locator("input[name=photos]").set_input_files([jpeg((200, 40, 40)), jpeg((40, 160, 60))])
    teacher.get_by_role("button", name="Опубликовать").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Экскурсия в планетарий")
    urls["article"] = teacher.url
    teacher.close()

    admin = people["admin"].new_page()
    admin.goto(school_url + "/documents")
    admin.locator("#new-folder").fill("Расписание")
    admin.locator("form:has(#new-folder) button").click()
    urls["folder"] = admin.get_by_role("link", name="Расписание", exact=True).first.get_attribute("href")
    admin.close()

    student = people["student"].new_page()
    student.goto("/help/ask")
    student.get_by_label("Тема", exact=True).fill("Не открывается чат")
    student.get_by_label("Ваш вопрос", exact=True).fill("Вместо сообщений пустая страница.")
    student.get_by_role("button", name="Отправить вопрос", exact=True).click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Не открывается чат")
    urls["question"] = student.url
    student.goto(school_url + "/appeals")
    student.locator("[name=subject]").fill("Кружок робототехники")
    student.locator("[name=text]").fill("Будет ли в этом году кружок для 7-х классов?")
    student.locator("form[method=post]:has([name=subject]) button").click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Кружок робототехники")
    urls["appeal"] = student.url
    student.goto("/help")
    urls["section"] = student.locator(".help-section a").first.get_attribute("href")
    student.close()
    return urls


def at(key, suffix=""):
    """A page of ``content``: ``at("school", "/articles")``."""
    return lambda page, urls: page.goto(urls[key] + suffix)


def fixed(url):
    return lambda page, urls: page.goto(url)


AREA_PAGES = [
    (None, "help", fixed("/help")),
    (None, "help-section", at("section")),
    (None, "ask", fixed("/help/ask")),
    (None, "privacy", fixed("/privacy")),
    ("student", "help", fixed("/help")),
    ("student", "help-section", at("section")),
    ("student", "ask", fixed("/help/ask")),
    ("student", "my-questions", fixed("/help/questions")),
    ("student", "question", at("question")),
    ("student", "privacy", fixed("/privacy")),
    ("student", "feedback", fixed("/feedback")),
    ("student", "articles", at("school", "/articles")),
    ("student", "article", at("article")),
    ("teacher", "articles", at("school", "/articles")),
    ("teacher", "article", at("article")),
    ("teacher", "article-editor", at("school", "/articles/new")),
    ("teacher", "article-editing", at("article", "/edit")),
    ("student", "school-documents", at("school", "/documents")),
    ("student", "school-folder", at("folder")),
    ("admin", "school-folder", at("folder")),
    ("admin", "school-upload", at("school", "/documents/new")),
    ("student", "my-documents", fixed("/documents")),
    ("student", "upload", fixed("/documents/new")),
    ("student", "appeals", at("school", "/appeals")),
    ("student", "appeal", at("appeal")),
    ("admin", "appeals", at("school", "/appeals")),
    ("admin", "appeal", at("appeal")),
    ("operator", "questions", fixed("/operator/questions")),
]


@pytest.mark.parametrize(
    "who, open_page", [(who, open_page) for who, _name, open_page in AREA_PAGES],
    ids=[f"{who or 'anonymous'}-{name}" for who, name, _open in AREA_PAGES],
)
def test_help_articles_documents_and_appeals_pages_have_no_serious_violations(page_as, content, who, open_page):
    page = page_as(who)
    open_page(page, content)
    page.wait_for_load_state("load")
    assert_no_serious_violations(page)


def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    assert page.evaluate("axe.version") == AXE_VERSION
    # axe preloads stylesheets, and by default media too: a lesson's live <video> never
    # "loads" the way a file does, so media are not preloaded. page.evaluate has no timeout
    # of its own: a run that never ends fails here instead of holding up the suite.
    return page.evaluate(
        "tags => Promise.race(["
        "axe.run(document, {runOnly: tags, preload: {assets: ['cssom']}}).then(r => r.violations.map(v => ({"
        "id: v.id, impact: v.impact, help: v.help,"
        "nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))),"
        "new Promise((_, reject) => setTimeout(() => reject(new Error('axe did not finish in 60 s')), 60000))])",
        WCAG_AA,
    )


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} — {v['help']}")
        lines += [f"    {n['target']}: {n['summary']}".replace("\n", " ") for n in v["nodes"]]
    return "\n".join(lines)


def test_the_pinned_axe_core_is_the_one_published():
    digest = base64.b64encode(hashlib.sha256(AXE.read_bytes()).digest()).decode()
    assert f"sha256-{digest}" == AXE_SRI
    assert (AXE.parent / "LICENSE").exists()


@pytest.mark.parametrize(
    "who, open_page", [(who, open_page) for who, _name, open_page in PAGES],
    ids=[f"{who or 'anonymous'}-{name}" for who, name, _open in PAGES],
)
def test_page_has_no_serious_accessibility_violations(page_as, who, open_page):
    page = page_as(who)
    open_page(page)
    page.wait_for_load_state("load")
    assert_no_serious_violations(page)


def test_chat_with_a_message_waiting_for_the_network_has_no_serious_violations(browser, live_server, people):
    context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, STUDENT)
        chat(page)
        context.set_offline(True)
        expect(page.locator("#net-state")).to_be_visible()
        page.get_by_placeholder("Сообщение").fill("Написано без сети")
        page.get_by_role("button", name="Отправить").click()
        expect(page.locator("#outbox .pending")).to_be_visible()
        assert_no_serious_violations(page)
    finally:
        context.close()


SHARED_IDS = """() => {
  var wanted = [];
  document.querySelectorAll("label[for]").forEach(function (label) { wanted.push(label.htmlFor); });
  document.querySelectorAll("[aria-describedby], [aria-labelledby], [aria-controls]").forEach(function (el) {
    ["aria-describedby", "aria-labelledby", "aria-controls"].forEach(function (name) {
      wanted = wanted.concat((el.getAttribute(name) || "").split(/\\s+/).filter(Boolean));
    });
  });
  return wanted.filter(function (id, i) {
    return wanted.indexOf(id) === i && document.querySelectorAll("#" + CSS.escape(id)).length > 1;
  });
}"""


def assert_no_serious_violations(page):
    # axe leaves a label that points at a shared id «to review»: here it fails.
    shared = page.evaluate(SHARED_IDS)
    assert not shared, f"{page.url}: labels or ARIA point at ids that several elements carry: {shared}"
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    milder = [v for v in violations if v["impact"] not in BLOCKING]
    if milder:
        print(f"\n{page.url} — milder violations:\n{describe(milder)}")
    assert not blocking, f"{page.url}:\n{describe(blocking)}"


def focused(page):
    """What has the keyboard focus: its id, or its tag and text when it has no id."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || (e.tagName.toLowerCase() + ':' + e.textContent.trim()); }"
    )


def tab_until(page, wanted, limit=40):
    """Press Tab until the focus is on ``wanted`` (if it is not there already); the stops, in order."""
    stops = [focused(page)]
    while stops[-1] != wanted and len(stops) <= limit:
        page.keyboard.press("Tab")
        stops.append(focused(page))
    if stops[-1] == wanted:
        return stops
    raise AssertionError(f"Tab never reached {wanted!r}; it went through {stops}")


def test_sign_in_by_keyboard_alone(page):
    page.goto("/auth/login")
    page.locator(".skip").focus()  # from the top of the page, not from the field's autofocus
    tab_until(page, "identifier")
    page.keyboard.type(STUDENT)
    page.keyboard.press("Tab")
    assert focused(page) == "password"
    page.keyboard.type("parta-demo")
    page.keyboard.press("Tab")
    assert focused(page) == "button:Войти"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Выйти", exact=True)).to_be_visible()


def test_chat_by_keyboard_and_new_messages_announced(page_as):
    page = page_as("student")
    chat(page)
    stops = tab_until(page, "send-button")
    assert "summary:+" in stops, f"«+» is not reachable with Tab: {stops}"
    assert "body" in stops, f"the message box is not reachable with Tab: {stops}"
    assert stops.index("summary:+") < stops.index("body") < stops.index("send-button")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "body"
    page.keyboard.type("Сообщение с клавиатуры")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg", has_text="Сообщение с клавиатуры")).to_have_count(1)

    # A message from someone else arrives inside the live region, which screen readers announce.
    live = page.locator("#messages")
    assert live.get_attribute("aria-live") in ("polite", "assertive") or live.get_attribute("role") == "log"
    teacher = page_as("teacher")
    chat(teacher)
    teacher.get_by_placeholder("Сообщение").fill("Вижу, спасибо")
    teacher.get_by_role("button", name="Отправить").click()
    expect(live.locator(".msg", has_text="Вижу, спасибо")).to_have_count(1)
