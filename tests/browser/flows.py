"""Steps the browser tests share: signing in and up as a person would, reading codes."""
import re
import time
from pathlib import Path

from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "parta-demo"


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def sign_in(page, identifier, password=DEMO_PASSWORD):
    page.goto("/auth/login")
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(identifier)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.get_by_role("button", name="Выйти", exact=True)).to_be_visible()


def create_class_chat(page, name):
    """On a class page: «Создать чат» with every student of the class, then the chat opens."""
    page.get_by_role("link", name="Создать чат").click()
    page.get_by_label("Название чата").fill(name)
    page.get_by_label("Выбрать всех участников").check()
    page.get_by_role("button", name="Создать чат").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def sms_code(server_log, phone, after):
    """The code of the last «sms to +7…: …123456» line for ``phone`` logged after ``after``."""
    line = re.compile(rf"sms to {re.escape(phone)}: [^\n]*?(?<!\d)(\d{{6}})(?!\d)")
    deadline = time.monotonic() + 10
    while True:
        codes = line.findall(server_log()[after:])
        if codes or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert codes, f"no SMS code for {phone} in the server log"
    return codes[-1]


def sign_up(page, identifier, code, password, last, first, gender, born, patronymic=""):
    """From the sign-up form to the end of «О себе»; ``code()`` reads the code sent."""
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(identifier)
    page.get_by_role("button", name="Получить код", exact=True).click()
    page.get_by_label("Код подтверждения", exact=True).fill(code())
    page.get_by_role("button", name="Далее", exact=True).click()
    page.get_by_label("Придумайте пароль", exact=True).fill(password)
    page.get_by_label("Подтвердите пароль", exact=True).fill(password)
    page.get_by_role("button", name="Далее", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("О себе")
    page.get_by_label("Фамилия", exact=True).fill(last)
    page.get_by_label("Имя", exact=True).fill(first)
    if patronymic:
        page.get_by_label("Отчество", exact=True).fill(patronymic)
    page.get_by_label("Пол", exact=True).select_option(label=gender)
    page.get_by_label("Дата рождения", exact=True).fill(born)
    page.get_by_role("button", name="Продолжить", exact=True).click()
