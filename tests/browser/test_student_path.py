"""The whole way of a new student (SPEC §3, §4): the class teacher's link, a request the class
teacher accepts, then the student invites a parent who signs up by phone and confirms her.
Three browser contexts stand for three phones.
"""
import random
import re
import uuid

import pytest
from playwright.sync_api import expect

from .flows import PHONE, screenshot, sign_in, sign_up, sms_code

pytestmark = pytest.mark.browser


def new_phone(browser, live_server):
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(20_000)
    return context


def test_student_joins_by_class_teachers_link_then_invites_a_parent(
    page, browser, live_server, smtp_server, server_log, demo_people
):
    sign_in(page, "+79000000002")  # Яна Рощина, class teacher of 7А
    page.goto("/schools")
    school_id = re.search(r"/schools/(\d+)", page.url).group(1)
    page.goto(f"/schools/{school_id}/invitations")
    page.get_by_label("Роль", exact=True).select_option(label="Ученик")
    page.get_by_label("Класс", exact=True).select_option(label="7А")
    page.get_by_role("button", name="Создать ссылку", exact=True).click()
    expect(page.get_by_text("Ссылка готова.")).to_be_visible()
    link = page.get_by_role("textbox", name="Ссылка для копирования").first.input_value()

    student_context = new_phone(browser, live_server)
    parent_context = new_phone(browser, live_server)
    try:
        student = student_context.new_page()
        student.goto(link)
        expect(student.get_by_text("ученик 7А")).to_be_visible()
        email = f"pupil-{uuid.uuid4().hex[:10]}@example.ru"
        student.get_by_role("link", name="Создать аккаунт", exact=True).click()
        sign_up(
            student, email, lambda: smtp_server.next_code(email), "Pupil-pass-2026",
            "Зайцева", "Вера", "Женский", "2012-10-01",
        )
        expect(student).to_have_url(link)
        student.get_by_role("button", name="Присоединиться", exact=True).click()
        expect(student.get_by_text("Заявка отправлена.")).to_be_visible()
        student.goto("/")
        expect(student.get_by_role("link", name="Гимназия №1")).to_have_count(0)

        page.goto(f"/schools/{school_id}/requests")
        row = page.locator("article.request-row", has_text="Зайцева Вера")
        expect(row).to_contain_text("ученик 7А")
        row.get_by_role("button", name="Принять", exact=True).click()
        expect(page.get_by_text("Заявка от Зайцева Вера принята.")).to_be_visible()

        student.goto("/notifications")
        expect(student.get_by_text("принята", exact=False)).to_be_visible()
        student.goto("/profile")
        student.locator("#parents").get_by_role("button", name="Пригласить родителя", exact=True).click()
        parent_link = student.locator("#parent-link").inner_text().strip()
        screenshot(student, "student-path-parent-link.png")

        parent = parent_context.new_page()
        phone = f"+7921{random.randrange(10**7):07d}"
        parent.goto(parent_link)
        expect(parent.get_by_text("Вера", exact=True)).to_be_visible()
        parent.get_by_role("link", name="Войти или создать аккаунт").click()
        before = len(server_log())
        sign_up(
            parent, phone, lambda: sms_code(server_log, phone, before), "Parent-pass-2026",
            "Зайцев", "Игорь", "Мужской", "1981-06-15",
        )
        expect(parent).to_have_url(parent_link)
        parent.get_by_role("button", name="Подтвердить регистрацию ребёнка").click()
        expect(parent.locator("#children")).to_contain_text("Зайцева Вера")
        expect(parent.locator("#children")).to_contain_text("7А, Гимназия №1")

        student.goto("/profile")
        expect(student.locator("#parents")).to_contain_text("Зайцев Игорь")
        screenshot(student, "student-path-parent-confirmed.png")
    finally:
        student_context.close()
        parent_context.close()
