"""A class chat in two browsers: messages arrive live, and one written offline arrives once."""
import re

from playwright.sync_api import expect

from .flows import create_class_chat, screenshot, sign_in

TEACHER = "+79000000002"  # Яна, class teacher of 7А
STUDENT = "masha@example.org"  # Мария, 7А


def open_class_page(page):
    page.get_by_role("link", name="Моя школа").click()  # one school: straight to it
    page.get_by_role("link", name="Классы", exact=True).click()
    page.get_by_role("link", name="7А", exact=True).click()


def test_two_browsers_chat_live_and_offline_messages_arrive_once(browser, live_server, demo_people):
    phone = {"width": 390, "height": 844}
    teacher_context = browser.new_context(viewport=phone, base_url=live_server, locale="ru-RU")
    student_context = browser.new_context(viewport=phone, base_url=live_server, locale="ru-RU")
    try:
        teacher, student = teacher_context.new_page(), student_context.new_page()
        sign_in(teacher, TEACHER)
        open_class_page(teacher)
        create_class_chat(teacher, "7А — Алгебра")

        sign_in(student, STUDENT)
        student.get_by_role("link", name="Сообщения").click()
        expect(student).to_have_url(re.compile(r"/chats$"))  # settled: the next click is pushed to history too
        student.get_by_role("link", name="7А — Алгебра").click()
        expect(student.get_by_role("heading", level=1)).to_have_text("7А — Алгебра")

        teacher_box = teacher.get_by_placeholder("Сообщение")
        student_box = student.get_by_placeholder("Сообщение")
        teacher_box.fill("Здравствуйте, 7А! Завтра самостоятельная.")
        teacher.get_by_role("button", name="Отправить").click()
        expect(student.locator(".msg", has_text="Завтра самостоятельная")).to_have_count(1)

        student_box.fill("Поняла, спасибо!")
        student.get_by_role("button", name="Отправить").click()
        expect(teacher.locator(".msg", has_text="Поняла, спасибо!")).to_have_count(1)
        expect(student.locator(".msg.mine", has_text="Поняла, спасибо!")).to_have_count(1)

        # The student's phone loses the network, writes anyway, and comes back.
        student_context.set_offline(True)
        expect(student.locator("#net-state")).to_contain_text("Нет сети")
        student_box.fill("Это я написала без сети")
        student.get_by_role("button", name="Отправить").click()
        expect(student.locator("#outbox .pending", has_text="Это я написала без сети")).to_be_visible()
        screenshot(student, "chat-offline.png")
        teacher.wait_for_timeout(1500)
        expect(teacher.locator(".msg", has_text="Это я написала без сети")).to_have_count(0)

        student_context.set_offline(False)
        expect(teacher.locator(".msg", has_text="Это я написала без сети")).to_have_count(1)
        expect(student.locator("#messages .msg", has_text="Это я написала без сети")).to_have_count(1)
        expect(student.locator("#outbox .pending")).to_have_count(0)

        # Meanwhile the teacher wrote; nothing doubles after a reload either.
        teacher_box.fill("Молодец, что написала.")
        teacher.get_by_role("button", name="Отправить").click()
        expect(student.locator(".msg", has_text="Молодец, что написала.")).to_have_count(1)
        student.reload()
        expect(student.locator(".msg", has_text="Это я написала без сети")).to_have_count(1)
        teacher.reload()
        expect(teacher.locator(".msg", has_text="Это я написала без сети")).to_have_count(1)
        screenshot(teacher, "chat-teacher.png")
    finally:
        teacher_context.close()
        student_context.close()


def test_a_picture_goes_with_progress_and_arrives_as_a_thumbnail(browser, live_server, demo_people, tmp_path):
    from PIL import Image

    picture = tmp_path / "доска.png"
    Image.new("RGB", (1200, 800), (30, 120, 200)).save(picture)
    phone = {"width": 390, "height": 844}
    teacher_context = browser.new_context(viewport=phone, base_url=live_server, locale="ru-RU")
    student_context = browser.new_context(viewport=phone, base_url=live_server, locale="ru-RU")
    try:
        teacher, student = teacher_context.new_page(), student_context.new_page()
        sign_in(teacher, TEACHER)
        open_class_page(teacher)
        create_class_chat(teacher, "7А — Рисунки")
        sign_in(student, STUDENT)
        student.get_by_role("link", name="Сообщения").click()
        expect(student).to_have_url(re.compile(r"/chats$"))  # settled: the next click is pushed to history too
        student.get_by_role("link", name="7А — Рисунки").click()
        expect(student.get_by_role("heading", level=1)).to_have_text("7А — Рисунки")

        teacher.locator("#files").set_input_files(str(picture))
        teacher.get_by_placeholder("Сообщение").fill("Решение с доски")
        teacher.get_by_role("button", name="Отправить").click()
        thumbnail = student.locator(".msg", has_text="Решение с доски").locator("img")
        expect(thumbnail).to_be_visible()
        assert student.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) <= 320
        expect(teacher.locator(".msg.mine", has_text="Решение с доски")).to_have_count(1)
        expect(teacher.locator("#upload-progress")).to_be_hidden()
        assert teacher.locator("#files").evaluate("(input) => input.files.length") == 0
        screenshot(student, "chat-picture.png")
    finally:
        teacher_context.close()
        student_context.close()
