"""Articles in a phone's browser: a teacher writes one in the editor (a heading, bold text,
an illustration, a cover, a poll), publishes it, and a student finds it by search, reads it
and votes in its poll."""
import io

from PIL import Image
from playwright.sync_api import expect

from .flows import screenshot, sign_in

TEACHER = "+79000000002"  # Яна, a teacher of «Гимназия №1»
STUDENT = "masha@example.org"  # Мария, 7А


def jpeg(colour, size=(900, 500)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def loaded(locator):
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_teacher_writes_and_publishes_an_article_with_a_cover(browser, live_server, demo_people, page):
    sign_in(page, TEACHER)
    page.get_by_role("link", name="Моя школа").click()
    page.get_by_role("link", name="Статьи", exact=True).click()
    page.get_by_role("link", name="Написать статью").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Новая статья")

    guide = page.locator("#article-guide")
    expect(guide).to_be_visible()
    guide.get_by_role("button", name="Понятно").click()
    expect(guide).to_be_hidden()

    page.get_by_label("Название").fill("День науки в гимназии")
    editor = page.locator(".ql-editor")
    editor.click()
    page.keyboard.type("Программа дня")
    page.locator(".ql-header .ql-picker-label").click()
    page.locator(".ql-header .ql-picker-item[data-value='2']").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("Опыты по физике и ")
    page.get_by_role("button", name="Жирный").click()
    page.keyboard.type("химии")
    page.get_by_role("button", name="Жирный").click()
    page.keyboard.press("Enter")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Иллюстрация").click()
    chooser.value.set_files(jpeg((200, 40, 40)))
    expect(editor.locator("img[src^='/articles/files/']")).to_have_count(1)
    page.get_by_label("Обложка").set_input_files(jpeg((30, 90, 200)))
    page.get_by_label("Тема опроса").fill("Какой опыт показать ещё раз?")
    page.get_by_label("Вариант 1", exact=True).fill("Маятник")
    page.get_by_label("Вариант 2", exact=True).fill("Вулкан")
    screenshot(page, "article-editor.png")
    page.get_by_role("button", name="Опубликовать").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("День науки в гимназии")
    expect(page.get_by_text("Статья опубликована.")).to_be_visible()
    body = page.locator(".article-body")
    expect(body.locator("h2")).to_have_text("Программа дня")
    expect(body.locator("strong")).to_have_text("химии")
    assert loaded(page.locator("img.article-cover"))
    assert loaded(body.locator("img"))

    # A student of the school finds it by another form of a word, on a phone, and reads it.
    student_context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server,
                                          locale="ru-RU")
    try:
        _student_reads(student_context.new_page())
    finally:
        student_context.close()


def _student_reads(page):
    sign_in(page, STUDENT)
    page.get_by_role("link", name="Моя школа").click()
    page.get_by_role("link", name="Статьи", exact=True).click()
    page.get_by_label("Поиск по статьям").fill("науке")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name="День науки в гимназии").click()
    expect(page.locator(".article-body h2")).to_have_text("Программа дня")
    assert loaded(page.locator("img.article-cover"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the article is wider than the phone: {width}px"
    screenshot(page, "article-phone.png")

    poll = page.locator(".article-poll")
    expect(poll.get_by_role("heading", name="Какой опыт показать ещё раз?")).to_be_visible()
    poll.get_by_label("Вулкан").check()
    poll.get_by_role("button", name="Проголосовать").click()
    expect(poll.get_by_text("Проголосовал 1 человек")).to_be_visible()
    assert "#poll-" not in page.url  # htmx swapped the poll in; a plain form would come back to #poll-N
    expect(poll.get_by_role("button", name="Изменить голос")).to_be_visible()
    expect(poll.get_by_label("Вулкан")).to_be_checked()
    screenshot(page, "article-poll-phone.png")
