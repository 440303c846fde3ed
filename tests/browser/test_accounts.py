"""Account paths a person walks in Chromium on a phone-sized screen (SPEC §1).

The interface is Russian by default, so elements are found by role and Russian
accessible name. Codes come by real SMTP to the ``smtp_server`` fixture.
"""
import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "Parta-test-2026!"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def fresh_email(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.ru"


def path(live_server, route):
    """The exact URL of ``route`` (query strings and fragments not allowed)."""
    return re.compile(re.escape(live_server + route) + r"$")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def start_sign_up(page, live_server, identifier):
    """From the landing page, ask for a code for ``identifier`` («Получить код»)."""
    page.goto(live_server + "/")
    page.get_by_role("link", name="Создать аккаунт", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/signup"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Создать аккаунт")
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(identifier)
    page.get_by_role("button", name="Получить код", exact=True).click()


def submit(page, button):
    """Click ``button`` and wait until the server's answer has replaced the page.

    htmx (hx-boost) swaps the body in place, so a page that answers with the same text
    as before (the same refusal twice) would otherwise pass an assertion too early.
    """
    page.locator("main").evaluate("main => main.setAttribute('data-stale', '')")
    button.click()
    expect(page.locator("main[data-stale]")).to_have_count(0)
    expect(page.locator("main")).to_have_count(1)


def enter_code(page, code):
    page.get_by_label("Код подтверждения", exact=True).fill(code)
    submit(page, page.get_by_role("button", name="Далее", exact=True))


def finish_sign_up(page, live_server, first_name, password=PASSWORD):
    """From the password page to the home page, filling «О себе» on the way."""
    expect(page).to_have_url(path(live_server, "/auth/password"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Придумайте пароль")
    page.get_by_label("Придумайте пароль", exact=True).fill(password)
    page.get_by_label("Подтвердите пароль", exact=True).fill(password)
    page.get_by_role("button", name="Далее", exact=True).click()

    expect(page).to_have_url(path(live_server, "/auth/about-you"))
    expect(page.get_by_role("heading", level=1)).to_have_text("О себе")
    page.get_by_label("Фамилия", exact=True).fill("Жукова")
    page.get_by_label("Имя", exact=True).fill(first_name)
    page.get_by_label("Отчество", exact=True).fill("Сергеевна")
    page.get_by_label("Пол", exact=True).select_option(label="Женский")
    page.get_by_label("Дата рождения", exact=True).fill("1992-07-22")
    page.get_by_role("button", name="Продолжить", exact=True).click()

    expect(page).to_have_url(path(live_server, "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Здравствуйте, {first_name}!")


def sign_up_by_email(page, live_server, smtp_server, email, first_name):
    start_sign_up(page, live_server, email)
    expect(page).to_have_url(path(live_server, "/auth/code"))
    enter_code(page, smtp_server.next_code(email))
    finish_sign_up(page, live_server, first_name)


def sign_out(page, live_server):
    page.get_by_role("button", name="Выйти", exact=True).click()
    expect(page).to_have_url(path(live_server, "/"))
    expect(page.get_by_role("button", name="Выйти", exact=True)).to_have_count(0)


def sign_in(page, live_server, identifier, password=PASSWORD):
    expect(page).to_have_url(path(live_server, "/auth/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Войти")
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(identifier)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти", exact=True).click()


def test_sign_up_by_email_then_sign_out_and_in(page, live_server, smtp_server):
    email = fresh_email("signup")
    start_sign_up(page, live_server, email)

    expect(page).to_have_url(path(live_server, "/auth/code"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите почту")
    expect(page.get_by_text(f"Мы отправили код на {email}.")).to_be_visible()
    mail = smtp_server.next_mail(email)
    assert f"Парта: код подтверждения — {mail.code}" in mail.body
    assert mail.code in mail.subject
    # Within the 60 s cool-down the resend button waits, with a visible countdown.
    expect(page.get_by_role("button", name="Отправить новый код")).to_be_disabled()
    expect(page.get_by_text("Новый код можно запросить через")).to_be_visible()
    screenshot(page, "signup-code-page.png")

    enter_code(page, mail.code)
    finish_sign_up(page, live_server, "Анна")
    expect(page.get_by_role("navigation", name="Главное меню")).to_be_visible()
    screenshot(page, "signup-home-page.png")

    sign_out(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Вся школа в одном надёжном месте")
    page.get_by_role("link", name="Войти", exact=True).click()
    sign_in(page, live_server, email)
    expect(page).to_have_url(path(live_server, "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Здравствуйте, Анна!")
    expect(page.get_by_role("button", name="Выйти", exact=True)).to_be_visible()


def test_five_wrong_codes_make_the_code_unusable(page, live_server, smtp_server):
    email = fresh_email("wrong-codes")
    start_sign_up(page, live_server, email)
    expect(page).to_have_url(path(live_server, "/auth/code"))
    right = smtp_server.next_code(email)
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    left = {1: "Осталось 4 попытки", 2: "Осталось 3 попытки", 3: "Осталось 2 попытки",
            4: "Осталась 1 попытка"}
    alert = page.locator("main").get_by_role("alert").first
    for attempt in range(1, 6):
        enter_code(page, wrong)
        expect(page).to_have_url(path(live_server, "/auth/code"))
        if attempt < 5:
            expect(alert).to_have_text(f"Неверный код. {left[attempt]}.")
        else:
            expect(alert).to_have_text(
                "Код 5 раз введён неверно и больше не действует. Запросите новый."
            )
        expect(page.get_by_label("Код подтверждения", exact=True)).to_be_visible()

    # The right code, now too late: refused, and the flow stays on the code page.
    enter_code(page, right)
    expect(page).to_have_url(path(live_server, "/auth/code"))
    expect(alert).to_have_text("Код 5 раз введён неверно и больше не действует. Запросите новый.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите почту")
    expect(page.get_by_role("button", name="Отправить новый код")).to_be_visible()

    # Starting over with the same email within the 60 s cool-down sends no new code.
    page.get_by_role("link", name="Изменить", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/signup"))
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(email)
    page.get_by_role("button", name="Получить код", exact=True).click()
    expect(page.locator("main").get_by_role("alert").first).to_have_text(
        re.compile(r"^Новый код можно запросить через \d+ секунд[уы]?\.$")
    )
    expect(page).to_have_url(path(live_server, "/auth/signup"))
    assert len(smtp_server.to(email)) == 1


def test_language_switch_and_its_memory_in_the_account(page, live_server, smtp_server):
    page.goto(live_server + "/auth/login")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Войти")

    page.get_by_role("button", name="EN", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/login"))
    expect(heading).to_have_text("Sign in")
    expect(page.get_by_label("Mobile phone or email", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Create an account", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="EN", exact=True)).to_have_attribute("aria-current", "true")
    expect(page).to_have_title("Sign in · Parta")

    page.get_by_role("button", name="RU", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/login"))
    expect(heading).to_have_text("Войти")
    expect(page.get_by_label("Мобильный телефон или электронная почта", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="RU", exact=True)).to_have_attribute("aria-current", "true")
    expect(page).to_have_title("Войти · Парта")

    # A signed-in person's choice is kept with the account, not only in this browser.
    email = fresh_email("language")
    sign_up_by_email(page, live_server, smtp_server, email, "Мария")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page).to_have_url(path(live_server, "/"))
    expect(heading).to_have_text("Hello, Мария!")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(path(live_server, "/"))
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_have_count(0)

    page.context.clear_cookies()  # as if on another device: no language cookie, no session
    page.goto(live_server + "/auth/login")
    expect(heading).to_have_text("Войти")
    sign_in(page, live_server, email)
    expect(page).to_have_url(path(live_server, "/"))
    expect(heading).to_have_text("Hello, Мария!")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()

    # And back: Russian is stored with the account again.
    page.get_by_role("button", name="RU", exact=True).click()
    expect(heading).to_have_text("Здравствуйте, Мария!")
    sign_out(page, live_server)
    page.context.clear_cookies()
    page.goto(live_server + "/auth/login")
    sign_in(page, live_server, email)
    expect(page).to_have_url(path(live_server, "/"))
    expect(heading).to_have_text("Здравствуйте, Мария!")


def test_language_switch_updates_html_lang(page, live_server):
    page.goto(live_server + "/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=2_000)


def test_language_chosen_before_sign_up_is_kept(page, live_server, smtp_server):
    page.goto(live_server + "/auth/signup")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    email = fresh_email("english")
    page.get_by_label("Mobile phone or email", exact=True).fill(email)
    page.get_by_role("button", name="Get a code", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/code"))
    mail = smtp_server.next_mail(email)
    assert f"Parta confirmation code: {mail.code}" in mail.body
    page.get_by_label("Confirmation code", exact=True).fill(mail.code)
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/password"))
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page).to_have_url(path(live_server, "/auth/about-you"))
    expect(page.get_by_role("heading", level=1)).to_have_text("About you", timeout=2_000)


@pytest.mark.parametrize("phone", ["+7 921 869", "8 (000) 000-00-00"])
def test_malformed_phone_is_refused_on_the_form(page, live_server, server_log, phone):
    log_before = len(server_log())
    start_sign_up(page, live_server, phone)
    field = page.get_by_label("Мобильный телефон или электронная почта", exact=True)
    error = page.locator("#identifier-error")
    expect(error).to_have_text("Номер мобильного телефона указан неверно. Пример: +7 921 869-52-60.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value(phone)
    expect(page).to_have_url(path(live_server, "/auth/signup"))
    expect(page.get_by_label("Код подтверждения")).to_have_count(0)
    assert "sms to" not in server_log()[log_before:], "an SMS was sent for a malformed phone"


def test_valid_phone_gets_a_code_by_sms(page, live_server, server_log):
    """The contrast to the malformed phone: a real number reaches the code page and an SMS."""
    number = f"+7 921 {uuid.uuid4().int % 10**7:07d}"
    e164 = "+7" + number[3:].replace(" ", "")
    start_sign_up(page, live_server, number)
    expect(page).to_have_url(path(live_server, "/auth/code"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите номер")
    sms = re.compile(rf"sms to {re.escape(e164)}: Парта: код подтверждения — \d{{6}}")
    assert wait_for_log(server_log, sms), f"no SMS to {e164} in the server log"


def wait_for_log(server_log, pattern, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pattern.search(server_log()):
            return True
        time.sleep(0.1)
    return bool(pattern.search(server_log()))
