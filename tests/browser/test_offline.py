"""Offline (SPEC §12): pages already seen open without a network, marked with the time they
were saved; a page never seen gives the offline page; the banner says so on every page; a
sign-out forgets the pages; a chat message written offline on a saved chat page goes once."""
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from .flows import PHONE, create_class_chat, screenshot, sign_in

STUDENT = "masha@example.org"  # Мария, 7А of Гимназия №1
TEACHER = "+79000000002"  # Яна, class teacher of 7А
SAVED = re.compile(r"^Нет сети: страница сохранена \d{1,2} [а-я]+\.? в \d\d:\d\d$")
NOT_SAVED = "Эта страница не сохранена на этом устройстве"

SAVED_PAGES_HOLD = """async (path) => {
  for (const name of await caches.keys()) {
    if (name.startsWith("parta-pages-") && await (await caches.open(name)).match(path)) return true;
  }
  return false;
}"""
PAGE_CACHES = """async () => (await caches.keys()).filter((name) => name.startsWith("parta-pages-"))"""


def wait_for_the_worker(page):
    """Until the service worker controls the page (it takes over open pages when it starts)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def wait_until_saved(page, path):
    page.wait_for_function(SAVED_PAGES_HOLD, arg=path)


def heading(page):
    return page.get_by_role("heading", level=1)


def test_seen_pages_open_offline_marked_and_unseen_ones_give_the_offline_page(context, page, demo_people):
    banner = page.locator("#net-banner")
    sign_in(page, STUDENT)
    wait_for_the_worker(page)
    page.get_by_role("link", name="Профиль", exact=True).click()
    expect(heading(page)).to_have_text("Иванова Мария Олеговна")
    wait_until_saved(page, "/profile")
    page.get_by_role("link", name="Моя школа", exact=True).click()  # one school: straight to it
    expect(heading(page)).to_have_text("Гимназия №1")
    school = page.url
    wait_until_saved(page, school)
    wait_until_saved(page, "/schools")
    expect(banner).to_be_empty()

    context.set_offline(True)
    expect(banner).to_have_text("Нет сети")
    page.goto("/profile")
    expect(heading(page)).to_have_text("Иванова Мария Олеговна")
    expect(banner).to_have_text(SAVED)
    expect(banner).to_have_class(re.compile(r"\boffline\b"))
    screenshot(page, "offline-saved-page.png")

    page.get_by_role("link", name="Моя школа", exact=True).click()  # a boosted link
    expect(page).to_have_url(re.compile(r"/schools$"))
    expect(heading(page)).to_have_text("Гимназия №1")
    expect(banner).to_have_text(SAVED)

    page.get_by_role("link", name=re.compile(r"^Уведомления")).click()  # never opened (a badge may follow the name)
    expect(heading(page)).to_have_text(NOT_SAVED)
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(banner).to_have_text("Нет сети")
    page.go_back()  # htmx asks for the page again: the saved copy
    expect(heading(page)).to_have_text("Гимназия №1")
    expect(banner).to_have_text(SAVED)
    page.goto("/chats")  # never opened, a full navigation
    expect(heading(page)).to_have_text(NOT_SAVED)
    expect(page.get_by_role("navigation")).to_have_count(0)  # drawn as for a guest
    screenshot(page, "offline-not-saved.png")

    context.set_offline(False)
    expect(banner).to_have_text("Сеть снова есть.")
    screenshot(page, "offline-back-online.png")
    page.get_by_role("link", name="Попробовать ещё раз").click()
    expect(heading(page)).to_have_text("Сообщения")
    expect(banner).to_be_empty()


def test_after_signing_out_the_pages_seen_do_not_open_offline(context, page, demo_people):
    sign_in(page, STUDENT)
    wait_for_the_worker(page)
    page.goto("/profile")
    expect(heading(page)).to_have_text("Иванова Мария Олеговна")
    wait_until_saved(page, "/profile")

    page.get_by_role("button", name="Выйти", exact=True).click()
    expect(page.get_by_role("link", name="Войти", exact=True)).to_be_visible()
    page.wait_for_function(f"({PAGE_CACHES})().then((names) => names.every((n) => n === 'parta-pages-0'))")

    context.set_offline(True)
    page.goto("/profile")
    expect(heading(page)).to_have_text(NOT_SAVED)
    assert "masha@example.org" not in page.content()
    page.goto("/")
    expect(page.get_by_text("Гимназия №1")).to_have_count(0)


def test_when_the_session_ends_elsewhere_the_next_page_forgets_the_saved_ones(context, page, demo_people):
    """Signed out on another device, or the session expired: no sign-out form was sent here."""
    sign_in(page, STUDENT)
    wait_for_the_worker(page)
    page.goto("/profile")
    wait_until_saved(page, "/profile")

    context.clear_cookies()
    page.goto("/contacts")  # now a guest's page
    expect(page.get_by_role("button", name="Выйти", exact=True)).to_have_count(0)
    page.wait_for_function(f"({PAGE_CACHES})().then((names) => names.every((n) => n === 'parta-pages-0'))")

    context.set_offline(True)
    page.goto("/profile")
    expect(heading(page)).to_have_text(NOT_SAVED)


@pytest.fixture
def class_chat(browser, live_server, demo_people, request):
    """A new 7А chat made by the class teacher; the student has opened it once (online)."""
    name = f"7А — без сети {request.node.name[-12:]}"
    teacher_context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    student_context = browser.new_context(
        viewport=PHONE, base_url=live_server, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    try:
        teacher, student = teacher_context.new_page(), student_context.new_page()
        sign_in(teacher, TEACHER)
        teacher.get_by_role("link", name="Моя школа").click()
        teacher.get_by_role("link", name="Классы", exact=True).click()
        teacher.get_by_role("link", name="7А", exact=True).click()
        create_class_chat(teacher, name)

        sign_in(student, STUDENT)
        wait_for_the_worker(student)
        student.get_by_role("link", name="Сообщения").click()
        expect(student).to_have_url(re.compile(r"/chats$"))  # settled: the next click is pushed to history too
        student.get_by_role("link", name=name).click()
        expect(heading(student)).to_have_text(name)
        wait_until_saved(student, student.url)
        yield SimpleNamespace(
            name=name, url=student.url, teacher=teacher, student=student, student_context=student_context
        )
    finally:
        teacher_context.close()
        student_context.close()


def open_saved_chat(chat):
    chat.student.goto(chat.url)
    expect(heading(chat.student)).to_have_text(chat.name)
    expect(chat.student.locator("#net-banner")).to_have_text(SAVED)


def write(page, text):
    page.get_by_placeholder("Сообщение").fill(text)
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("#outbox .pending", has_text=text)).to_be_visible()


def test_a_message_written_on_a_chat_page_opened_offline_is_sent_once(class_chat):
    teacher, student = class_chat.teacher, class_chat.student
    # Offline, the chat page comes from the worker's store, scripts and all.
    class_chat.student_context.set_offline(True)
    student.goto("/profile")
    open_saved_chat(class_chat)
    write(student, "Написала в метро, без сети")
    screenshot(student, "offline-chat-pending.png")
    teacher.wait_for_timeout(1500)
    expect(teacher.locator(".msg", has_text="Написала в метро")).to_have_count(0)

    class_chat.student_context.set_offline(False)
    expect(teacher.locator(".msg", has_text="Написала в метро")).to_have_count(1)
    expect(student.locator("#messages .msg", has_text="Написала в метро")).to_have_count(1)
    expect(student.locator("#outbox .pending")).to_have_count(0)
    student.reload()
    expect(student.locator(".msg", has_text="Написала в метро")).to_have_count(1)
    teacher.reload()
    expect(teacher.locator(".msg", has_text="Написала в метро")).to_have_count(1)
    screenshot(student, "offline-chat-sent.png")


def test_messages_written_on_two_openings_of_the_saved_chat_page_both_arrive(class_chat):
    teacher, student = class_chat.teacher, class_chat.student
    class_chat.student_context.set_offline(True)
    open_saved_chat(class_chat)
    write(student, "Первое без сети")
    student.goto("/profile")
    open_saved_chat(class_chat)
    write(student, "Второе без сети")

    class_chat.student_context.set_offline(False)
    expect(teacher.locator(".msg", has_text="Первое без сети")).to_have_count(1)
    expect(student.locator("#outbox .pending")).to_have_count(0)
    teacher.reload()
    expect(teacher.locator(".msg", has_text="Второе без сети")).to_have_count(1, timeout=3000)
