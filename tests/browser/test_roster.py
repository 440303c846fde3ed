"""The e-diary roster import in a browser: on a slow link the file goes with a progress bar,
the page says when the server is checking it, and then shows what was imported."""
import io
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .flows import screenshot, sign_in
from .test_documents import slow_upload

ADMIN = "+79000000001"  # Илья, the gymnasium's administrator
DEMO_ROSTER = Path(__file__).resolve().parents[2] / "db" / "demo_roster"


def roster_zip():
    """The demo export cut down to people nobody else in the browser tests is, with the
    year's sessions (which the import does not read) making it about a megabyte."""
    files = {path.name: path.read_text() for path in DEMO_ROSTER.glob("*.csv")}
    users = files["users.csv"].splitlines()
    files["users.csv"] = "\n".join([users[0]] + [
        line.replace("+7 900 111-22-33", "+7 900 555-01-01").replace("8 (900) 111-22-44", "8 (900) 555-01-02")
            .replace("Kotova@Example.org", "kotova.roster@example.org")
        for line in users[1:] if line.split(",")[0] in ("stu-1", "par-1", "tea-1")
    ]) + "\n"
    enrollments = files["enrollments.csv"].splitlines()
    files["enrollments.csv"] = "\n".join(enrollments[:3]) + "\n"
    files["academicSessions.csv"] = "sourcedId,status,dateLastModified,title,type,startDate,endDate\n" + "".join(
        f"day-{n},,,День {n},gradingPeriod,2026-09-01,2027-05-31\n" for n in range(22_000)
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.no_service_worker
def test_a_roster_import_shows_its_progress_then_what_was_imported(page, live_server, demo_people):
    sign_in(page, ADMIN)
    page.goto("/schools/1/roster")
    expect(page.get_by_role("heading", level=1)).to_have_text("Импорт из электронного дневника")
    data = roster_zip()
    assert len(data) > 900_000
    slow_upload(page, 256 * 1024)
    page.get_by_label("Файл OneRoster (.zip)").set_input_files(
        {"name": "выгрузка.zip", "mimeType": "application/zip", "buffer": data}
    )
    page.get_by_role("button", name="Импортировать").click()
    expect(page.locator("#upload-bar")).to_be_visible()
    page.wait_for_function("document.getElementById('upload-bar').value > 0")
    expect(page.get_by_role("button", name="Отменить загрузку")).to_be_visible()
    expect(page.locator("#upload-status")).to_contain_text("Загружено")
    screenshot(page, "roster-import-progress.png")
    expect(page.get_by_role("status").filter(has_text="Список импортирован")).to_be_visible()
    expect(page.locator("#roster-result")).to_contain_text("Людей добавлено")
    screenshot(page, "roster-import-done.png")
