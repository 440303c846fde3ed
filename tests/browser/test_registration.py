"""Registering a school in Chromium on a phone-sized screen (SPEC §2, seed [000]).

Someone applies without an account; a person signs up and is made the operator by
`flask create-operator` (never by the web); the operator accepts; the administrator
signs up with the application's email and lands in the new school as its admin.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "Parta-test-2026!"
PHONE = {"width": 390, "height": 844}


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def submit(page, button):
    """Click and wait until htmx has swapped in the server's answer (see test_accounts)."""
    page.locator("main").evaluate("main => main.setAttribute('data-stale', '')")
    button.click()
    expect(page.locator("main[data-stale]")).to_have_count(0)
    expect(page.locator("main")).to_have_count(1)


def sign_up(page, smtp_server, address, last, first):
    page.goto("/auth/signup")
    page.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(address)
    submit(page, page.get_by_role("button", name="Получить код", exact=True))
    page.get_by_label("Код подтверждения", exact=True).fill(smtp_server.next_code(address))
    submit(page, page.get_by_role("button", name="Далее", exact=True))
    page.get_by_label("Придумайте пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Подтвердите пароль", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Далее", exact=True))
    page.get_by_label("Фамилия", exact=True).fill(last)
    page.get_by_label("Имя", exact=True).fill(first)
    page.get_by_label("Пол", exact=True).select_option(label="Женский")
    page.get_by_label("Дата рождения", exact=True).fill("1985-03-01")
    submit(page, page.get_by_role("button", name="Продолжить", exact=True))


def create_operator(live_server_process, address):
    instance = live_server_process.log_path.parent / "instance"
    env = {**os.environ, "INSTANCE_PATH": str(instance),
           "DATABASE_URL": f"sqlite:///{instance / 'parta.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "create-operator", address],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_school_is_applied_for_accepted_and_its_admin_signs_up(
    browser, live_server, live_server_process, smtp_server
):
    tag = uuid.uuid4().hex[:8]
    admin_email = f"director-{tag}@example.ru"
    short_name = f"Школа {tag}"

    applicant = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    page = applicant.new_page()
    page.goto("/schools/apply")
    expect(page.get_by_role("heading", level=1)).to_have_text("Зарегистрировать организацию")
    page.get_by_label("Полное название организации").fill(f"МБОУ «{short_name}»")
    page.get_by_label("Сокращённое название").fill(short_name)
    page.get_by_label("Субъект РФ (регион)").fill("Псковская область")
    page.get_by_label("Населённый пункт").fill("Великие Луки")
    page.get_by_label("Ф. И. О. администратора").fill("Лебедева Анна Сергеевна")
    page.get_by_label("Мобильный телефон администратора").fill("12345")
    page.get_by_label("Email администратора").fill(admin_email)
    submit(page, page.get_by_role("button", name="Отправить заявку"))
    expect(page.get_by_text("Номер мобильного телефона указан неверно")).to_be_visible()
    screenshot(page, "registration-apply-error.png")
    page.get_by_label("Мобильный телефон администратора").fill("+7 921 555-12-34")
    submit(page, page.get_by_role("button", name="Отправить заявку"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Спасибо, заявка отправлена")
    expect(page.get_by_text("в течение 24 часов")).to_be_visible()
    screenshot(page, "registration-sent.png")
    applicant.close()

    operator_email = f"operator-{tag}@example.ru"
    operator = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    page = operator.new_page()
    sign_up(page, smtp_server, operator_email, "Операторова", "Вера")
    assert page.goto("/operator/applications").status == 404
    create_operator(live_server_process, operator_email)
    page.goto("/operator/applications")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Заявки школ")
    screenshot(page, "registration-operator-list.png")
    page.get_by_role("link", name=short_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(short_name)
    screenshot(page, "registration-operator-application.png")
    submit(page, page.get_by_role("button", name="Принять"))
    expect(page.get_by_text(f"Заявка принята: школа «{short_name}» создана.")).to_be_visible()
    operator.close()

    mail = smtp_server.next_mail(admin_email)
    assert "зарегистрирована в Парте" in mail.subject
    assert f"{live_server}/auth/signup" in mail.body

    admin = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    page = admin.new_page()
    sign_up(page, smtp_server, admin_email, "Лебедева", "Анна")
    page.goto("/schools")
    expect(page.get_by_role("heading", level=1)).to_have_text(short_name)
    admin.close()
