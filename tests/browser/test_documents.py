"""School documents in a browser: «+» shows the limits, the upload shows its progress and can
be cancelled, and what was uploaded is listed for the school."""
import pytest
from playwright.sync_api import expect

from .flows import screenshot, sign_in
from .test_accessibility import assert_no_serious_violations

TEACHER = "+79000000002"  # Яна, teacher of «Гимназия №1»
MB = 1024 * 1024


def slow_upload(page, bytes_per_second):
    """Chromium's own network throttling, so that the progress bar has time to move."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )
    return session


def text_file(name, size):
    line = "Контрольная работа по алгебре, вариант 1. ".encode()
    return {"name": name, "mimeType": "text/plain", "buffer": line * (size // len(line))}  # whole lines: valid UTF-8


@pytest.mark.no_service_worker
def test_an_upload_shows_its_progress_can_be_cancelled_and_then_succeeds(page, live_server, demo_people):
    sign_in(page, TEACHER)
    page.get_by_role("link", name="Моя школа").click()
    page.get_by_role("link", name="Документы школы").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Документы школы")
    page.get_by_role("link", name="Загрузить файлы").click()
    expect(page.locator("#upload-limits")).to_contain_text("Каждый файл — до 25 МБ")

    # A slow link: the bar moves, and «Отменить загрузку» stops the upload; nothing is kept.
    throttle = slow_upload(page, 256 * 1024)
    page.get_by_label("Файлы").set_input_files([text_file("Черновик.txt", 4 * MB)])
    page.get_by_role("button", name="Загрузить", exact=True).click()
    bar = page.locator("#upload-bar")
    expect(bar).to_be_visible()
    expect(page.locator("#upload-status")).to_contain_text("Загружено")
    page.wait_for_function("document.getElementById('upload-bar').value > 0")
    screenshot(page, "documents-upload-progress.png")
    page.get_by_role("button", name="Отменить загрузку").click()
    expect(page.locator("#upload-status")).to_have_text("Загрузка отменена. Ничего не сохранено.")
    expect(page.get_by_role("button", name="Загрузить", exact=True)).to_be_enabled()

    # A faster link: the upload completes and lands in the list, with the page's own message.
    throttle.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 2 * MB},
    )
    page.get_by_label("Файлы").set_input_files([text_file("Контрольная 7А.txt", 3 * MB)])
    page.get_by_role("button", name="Загрузить", exact=True).click()
    page.wait_for_function("document.getElementById('upload-bar').value > 0")
    expect(page.get_by_role("heading", level=1)).to_have_text("Документы школы")
    expect(page.get_by_role("status").filter(has_text="Загружен 1 файл.")).to_be_visible()
    expect(page.get_by_role("link", name="Контрольная 7А.txt")).to_be_visible()
    expect(page.get_by_role("link", name="Черновик.txt")).to_have_count(0)
    screenshot(page, "documents-list.png")


def test_my_documents_and_the_upload_page_have_no_serious_accessibility_violations(page, live_server, demo_people):
    sign_in(page, "masha@example.org")
    page.goto("/documents/new")
    expect(page.locator("#upload-limits")).to_contain_text("Свободно в «Моих документах»")
    page.get_by_label("Файлы").set_input_files([text_file("Реферат.txt", 20_000)])
    page.get_by_role("button", name="Загрузить", exact=True).click()
    expect(page.get_by_role("link", name="Реферат.txt")).to_be_visible()
    expect(page.locator(".doc-quota")).to_contain_text("из 200 МБ")
    page.goto("/documents")
    assert_no_serious_violations(page)
    page.goto("/documents/new")
    assert_no_serious_violations(page)
