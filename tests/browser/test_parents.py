"""A student invites a parent in Chromium (SPEC §4, seeds [000] [001] [002]).

The student's browser context and the parent's are separate, as two phones are. The
parent's SMS code comes from the live server's log (the console SMS backend).
"""
import random
import re

import pytest
from playwright.sync_api import expect

from .flows import PHONE, screenshot, sign_in, sms_code

pytestmark = pytest.mark.browser


def test_student_invites_a_parent_who_signs_up_by_phone_and_confirms(
    page, browser, live_server, server_log, demo_people
):
    sign_in(page, "masha@example.org")
    page.goto("/profile")
    parents = page.locator("#parents")
    expect(parents.get_by_role("heading", name="Родители")).to_be_visible()
    parents.get_by_role("button", name="Пригласить родителя", exact=True).click()

    link = page.locator("#parent-link")
    expect(link).to_be_visible()
    url = link.inner_text().strip()
    assert re.fullmatch(re.escape(live_server) + r"/parent/[\w-]{43}", url), url
    expect(page.get_by_text("Скопируйте ссылку, нажав на неё.")).to_be_visible()
    qr = page.get_by_role("img", name="QR-код ссылки для родителя")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    link.click()
    assert page.evaluate("() => String(window.getSelection())").strip() == url
    screenshot(page, "parents-student-link.png")

    # The same browser, still signed in as the child: refused, with the ways round.
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ребёнок не может стать родителем самому себе"
    )
    expect(page.get_by_text("режим инкогнито")).to_be_visible()
    expect(page.get_by_role("button", name="Выйти из профиля ученика и продолжить как родитель")).to_be_visible()
    screenshot(page, "parents-own-link-refused.png")

    # The parent, on another device.
    parent_context = browser.new_context(
        viewport=PHONE, base_url=live_server, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    try:
        parent = parent_context.new_page()
        phone = f"+7921{random.randrange(10**7):07d}"
        parent.goto(url)
        expect(parent.get_by_role("heading", level=1)).to_have_text("Приглашение для родителя")
        expect(parent.get_by_text("Мария", exact=True)).to_be_visible()
        expect(parent.get_by_text("Иванова")).to_have_count(0)
        screenshot(parent, "parents-invitation-guest.png")
        parent.get_by_role("link", name="Войти или создать аккаунт").click()

        log_before = len(server_log())
        parent.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(phone)
        parent.get_by_role("button", name="Получить код", exact=True).click()
        parent.get_by_label("Код подтверждения", exact=True).fill(sms_code(server_log, phone, log_before))
        parent.get_by_role("button", name="Далее", exact=True).click()
        parent.get_by_label("Придумайте пароль", exact=True).fill("Parent-pass-2026")
        parent.get_by_label("Подтвердите пароль", exact=True).fill("Parent-pass-2026")
        parent.get_by_role("button", name="Далее", exact=True).click()
        expect(parent.get_by_role("heading", level=1)).to_have_text("О себе")
        parent.get_by_label("Фамилия", exact=True).fill("Иванов")
        parent.get_by_label("Имя", exact=True).fill("Олег")
        parent.get_by_label("Отчество", exact=True).fill("Павлович")
        parent.get_by_label("Пол", exact=True).select_option(label="Мужской")
        parent.get_by_label("Дата рождения", exact=True).fill("1983-04-02")
        parent.get_by_role("button", name="Продолжить", exact=True).click()

        # Back at the child's link, now with the child's profile to check.
        expect(parent).to_have_url(url)
        expect(parent.get_by_role("heading", level=1)).to_have_text("Подтвердить регистрацию ребёнка")
        expect(parent.get_by_label("Фамилия", exact=True)).to_have_value("Иванова")
        expect(parent.get_by_text("7А, Гимназия №1")).to_be_visible()
        screenshot(parent, "parents-confirm.png")
        parent.get_by_role("button", name="Подтвердить регистрацию ребёнка").click()

        children = parent.locator("#children")
        expect(children.get_by_role("heading", name="Дети")).to_be_visible()
        expect(children).to_contain_text("Иванова Мария Олеговна")
        expect(children).to_contain_text("7А, Гимназия №1")
        screenshot(parent, "parents-parent-profile.png")
    finally:
        parent_context.close()

    page.goto("/profile")
    expect(page.locator("#parents")).to_contain_text("Иванов Олег Павлович")
