"""An administrator invites a teacher by link in Chromium (SPEC §3, seeds [000] [004]).

The administrator's browser context and the new teacher's are separate, as two phones
are. The new teacher signs up by email (code by real SMTP) and is brought back to the link.
"""
import re
import uuid

import pytest
from playwright.sync_api import expect

from .flows import PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "Parta-test-2026!"


def test_admin_invites_a_teacher_who_signs_up_joins_and_is_accepted(
    page, browser, live_server, smtp_server, demo_people
):
    sign_in(page, "+79000000001")
    page.goto("/schools")
    expect(page.get_by_role("heading", level=1)).to_have_text("Гимназия №1")
    school_id = re.search(r"/schools/(\d+)", page.url).group(1)

    page.goto(f"/schools/{school_id}/invitations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Приглашения по ссылке")
    expect(page.get_by_text("Не размещайте ссылки в открытом доступе")).to_be_visible()
    page.get_by_label("Роль", exact=True).select_option(label="Учитель")
    page.get_by_label("Класс", exact=True).select_option(label="7А")
    page.get_by_label("Срок действия ссылки", exact=True).select_option(label="7 дней")
    page.get_by_label("Сколько раз можно использовать", exact=True).fill("1")
    page.get_by_role("button", name="Создать ссылку", exact=True).click()
    expect(page.get_by_text("Ссылка готова.")).to_be_visible()
    link = page.get_by_role("textbox", name="Ссылка для копирования").first.input_value()
    assert re.fullmatch(re.escape(live_server) + r"/invite/[\w-]{40,}", link), link
    screenshot(page, "invitations-list.png")

    teacher_context = browser.new_context(
        viewport=PHONE, base_url=live_server, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    teacher_context.set_default_timeout(20_000)
    teacher = teacher_context.new_page()
    try:
        teacher.goto(link)
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Приглашение в учебное заведение")
        expect(teacher.get_by_text("Куда:")).to_be_visible()
        expect(teacher.get_by_text("учитель в 7А")).to_be_visible()
        screenshot(teacher, "invitation-guest.png")

        email = f"teacher-{uuid.uuid4().hex[:10]}@example.ru"
        teacher.get_by_role("link", name="Создать аккаунт", exact=True).click()
        teacher.get_by_label("Мобильный телефон или электронная почта", exact=True).fill(email)
        teacher.get_by_role("button", name="Получить код", exact=True).click()
        teacher.get_by_label("Код подтверждения", exact=True).fill(smtp_server.next_code(email))
        teacher.get_by_role("button", name="Далее", exact=True).click()
        teacher.get_by_label("Придумайте пароль", exact=True).fill(PASSWORD)
        teacher.get_by_label("Подтвердите пароль", exact=True).fill(PASSWORD)
        teacher.get_by_role("button", name="Далее", exact=True).click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("О себе")
        teacher.get_by_label("Фамилия", exact=True).fill("Лебедева")
        teacher.get_by_label("Имя", exact=True).fill("Ксения")
        teacher.get_by_label("Пол", exact=True).select_option(label="Женский")
        teacher.get_by_label("Дата рождения", exact=True).fill("1990-03-08")
        teacher.get_by_role("button", name="Продолжить", exact=True).click()

        # Back on the invitation, now signed in.
        expect(teacher).to_have_url(link)
        teacher.get_by_label("Предметы", exact=True).fill("Химия")
        screenshot(teacher, "invitation-join.png")
        teacher.get_by_role("button", name="Присоединиться", exact=True).click()
        expect(teacher.get_by_text("Заявка отправлена.")).to_be_visible()

        page.goto(f"/schools/{school_id}/requests")
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text("Заявки")
        expect(heading.locator(".badge")).to_have_text("1")
        row = page.locator("article.request-row", has_text="Лебедева Ксения")
        expect(row).to_contain_text("учитель в 7А")
        expect(row).to_contain_text("Химия")
        screenshot(page, "requests-list.png")
        row.get_by_role("button", name="Принять", exact=True).click()
        expect(page.get_by_text("Заявка от Лебедева Ксения принята.")).to_be_visible()

        teacher.goto("/notifications")
        expect(
            teacher.get_by_text("Ваша заявка на вступление в Гимназия №1 (учитель в 7А) принята.")
        ).to_be_visible()
        teacher.goto("/")
        expect(teacher.get_by_role("link", name="Гимназия №1")).to_be_visible()
    finally:
        teacher_context.close()
