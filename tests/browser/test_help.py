"""A student asks support a question with a screenshot and reads the operator's answer
(SPEC §11, seed [004]: «Задать свой вопрос», screenshots, steps, «Мои вопросы»).

The student and the operator use separate browser contexts, as two devices are.
"""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from .flows import PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser


def _png():
    out = io.BytesIO()
    Image.new("RGB", (390, 260), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_student_asks_with_a_screenshot_and_reads_the_operators_answer(page, browser, live_server, demo_people):
    sign_in(page, "masha@example.org")
    page.get_by_role("navigation", name="Главное меню").get_by_role("link", name="Помощь", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Помощь")

    page.get_by_role("searchbox", name="Поиск по ответам").fill("ПАРОЛЬ")
    page.get_by_role("button", name="Найти", exact=True).click()
    # The search results, not the list of every answer below them (it holds the same link).
    expect(page).to_have_url(re.compile(r"/help\?q="))
    found = page.locator(".help-result")
    expect(found.get_by_role("link", name="Я забыл пароль")).to_be_visible()

    page.locator(".help-section").get_by_role("link", name="Сообщения", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Сообщения")
    page.get_by_role("link", name="Задать свой вопрос", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Задать свой вопрос")
    subject = "Чат 7А не открывается (браузерный тест)"
    page.get_by_label("Тема", exact=True).fill(subject)
    page.get_by_label("Ваш вопрос", exact=True).fill("Вместо сообщений — пустая страница.")
    page.get_by_label("Что вы делали перед ошибкой?", exact=True).fill("Открыла «Сообщения», нажала на чат 7А.")
    page.get_by_label("Снимки экрана", exact=True).set_input_files(
        [{"name": "экран.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name="Отправить вопрос", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.get_by_text("Вопрос отправлен.")).to_be_visible()
    thumb = page.get_by_role("img", name="Снимок экрана экран.png")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    question_url = page.url
    screenshot(page, "help-question-asked.png")

    operator_context = browser.new_context(viewport=PHONE, base_url=live_server, locale="ru-RU")
    operator = operator_context.new_page()
    try:
        sign_in(operator, "operator@example.org")
        operator.get_by_role("link", name=re.compile("^Вопросы в поддержку")).click()
        operator.get_by_role("link", name=subject, exact=True).click()
        expect(operator.get_by_text("Открыла «Сообщения», нажала на чат 7А.")).to_be_visible()
        expect(operator.get_by_role("img", name="Снимок экрана экран.png")).to_be_visible()
        operator.get_by_label("Ваше сообщение", exact=True).fill("Мария, обновите страницу: сбой уже исправлен.")
        operator.get_by_role("button", name="Отправить ответ", exact=True).click()
        expect(operator.get_by_text("Ответ отправлен.")).to_be_visible()
    finally:
        operator_context.close()

    page.goto("/notifications")
    page.get_by_role("link", name=re.compile("Поддержка ответила на ваш вопрос")).first.click()
    expect(page).to_have_url(question_url)
    expect(page.get_by_text("Мария, обновите страницу: сбой уже исправлен.")).to_be_visible()
    expect(page.get_by_text("Есть ответ")).to_be_visible()
    page.get_by_role("link", name="Мои вопросы", exact=True).click()
    expect(page.get_by_role("link", name=subject, exact=True)).to_be_visible()
    screenshot(page, "help-my-questions.png")
