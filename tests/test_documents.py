"""School documents and «Мои документы» (SPEC §8): members view and download, administrators
and teachers upload and delete; the limits are shown before the upload; refused uploads leave
nothing on disk; downloads resume with HTTP Range; pictures and PDF open in the browser;
each person's own store has a quota, shown as used of total."""
import io
import json
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from blueprints.documents import actions
from blueprints.documents.access import personal_place, school_place
from conftest import ROLES, csrf_token, gymnasium, post_form
from db import database
from db.models import Document, Folder, Membership
from test_chat_files import DOCX, PDF, jpeg, office

MB = 1024 * 1024
MANAGERS = ("teacher", "other_class_teacher", "admin")
VIEWERS = ("student", "parent")
OUTSIDERS = ("other_school_admin", "operator")
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4


# Helpers ---------------------------------------------------------------------------------------


def stored_files(app):
    folder = Path(app.config["INSTANCE_PATH"]) / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file())


def documents():
    with database.connection_context():
        return list(Document.select().order_by(Document.id))


def upload(client, base, files, folder=None, headers=None):
    """POST the upload form as a browser does; ``files`` is [(bytes, filename)]."""
    query = f"?folder={folder}" if folder else ""
    data = {
        "csrf_token": csrf_token(client, "/"),
        "files": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(
        f"{base}/upload{query}", data=data, content_type="multipart/form-data", headers=headers or {}
    )


def school_base():
    with database.connection_context():
        return f"/schools/{gymnasium().id}/documents"


def page(response):
    return response.get_data(as_text=True)


@pytest.fixture
def shelf(app, demo):
    """The gymnasium's documents as an administrator left them: a folder «Приказы» with a PDF
    order in it, and a photo at the top."""
    with app.test_request_context(), database.connection_context():
        place = school_place(demo["admin"], gymnasium().id)
        orders = actions.do_create_folder(place, None, "Приказы")
        [order] = actions.do_upload(
            place, orders, actions.check_documents(place, [FileStorage(io.BytesIO(PDF), "Приказ №1.pdf")]),
            demo["admin"],
        )
        [photo] = actions.do_upload(
            place, None, actions.check_documents(place, [FileStorage(io.BytesIO(jpeg()), "Линейка.jpg")]),
            demo["admin"],
        )
        return {"base": f"/schools/{place.school.id}/documents", "folder": orders, "order": order, "photo": photo}


# Access --------------------------------------------------------------------------------------------


def _expected(role, allowed, ok):
    if role == "anonymous":
        return 302  # to the sign-in page
    if role in OUTSIDERS:
        return 404
    return ok if role in allowed else 403


READS = {
    "list": lambda s: s["base"],
    "folder": lambda s: f"{s['base']}/folders/{s['folder'].id}",
    "download": lambda s: f"{s['base']}/{s['order'].id}",
    "thumbnail": lambda s: f"{s['base']}/{s['photo'].id}/thumb",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", READS)
def test_every_member_of_the_school_views_and_downloads(signed_in, shelf, role, what):
    response = signed_in(role).get(READS[what](shelf))
    assert response.status_code == _expected(role, VIEWERS + MANAGERS, 200)


WRITES = {  # what → (url, form data, status on success)
    "upload": lambda s: (f"{s['base']}/upload", {"files": [(io.BytesIO(PDF), "План.pdf")]}, 303),
    "create folder": lambda s: (f"{s['base']}/folders", {"name": "Расписание"}, 303),
    "rename folder": lambda s: (f"{s['base']}/folders/{s['folder'].id}/rename", {"name": "Приказы 2026"}, 303),
    "delete document": lambda s: (f"{s['base']}/{s['photo'].id}/delete", {}, 303),
    "delete folder": lambda s: (f"{s['base']}/folders/{s['folder'].id}/delete", {}, 303),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", WRITES)
def test_only_administrators_and_teachers_upload_and_delete(app, signed_in, shelf, role, what):
    client = signed_in(role)
    url, data, ok = WRITES[what](shelf)
    before = (len(documents()), len(stored_files(app)))
    response = client.post(url, data={"csrf_token": csrf_token(client, "/"), **data}, content_type="multipart/form-data")
    assert response.status_code == _expected(role, MANAGERS, ok)
    if response.status_code != ok:
        assert (len(documents()), len(stored_files(app))) == before, "a refusal changes nothing"


@pytest.mark.parametrize("role", ROLES)
def test_the_upload_page_is_for_those_who_upload(signed_in, shelf, role):
    assert signed_in(role).get(f"{shelf['base']}/new").status_code == _expected(role, MANAGERS, 200)


@pytest.fixture
def own_shelf(app, demo):
    """Яна's «Мои документы»: a folder and a text file in it."""
    with app.test_request_context(), database.connection_context():
        place = personal_place(demo["teacher"])
        notes = actions.do_create_folder(place, None, "Конспекты")
        [lesson] = actions.do_upload(
            place, notes, actions.check_documents(place, [FileStorage(io.BytesIO("Дроби: план урока".encode()), "Дроби.txt")]),
            demo["teacher"],
        )
        return {"folder": notes, "lesson": lesson}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url",
    ("/documents/folders/{folder}", "/documents/{lesson}", "/documents/{lesson}/delete", "/documents/folders/{folder}/delete"),
)
def test_my_documents_are_their_owners_alone(app, signed_in, own_shelf, role, url):
    client = signed_in(role)
    url = url.format(folder=own_shelf["folder"].id, lesson=own_shelf["lesson"].id)
    if url.endswith("/delete"):
        response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    else:
        response = client.get(url)
    expected = 302 if role == "anonymous" else (404 if role != "teacher" else (303 if url.endswith("/delete") else 200))
    assert response.status_code == expected
    if role != "teacher":
        assert len(documents()) == 1


def test_everybody_signed_in_has_my_documents(signed_in, own_shelf):
    assert "Дроби.txt" in page(signed_in("teacher").get("/documents/folders/%d" % own_shelf["folder"].id))
    for role in ("student", "operator", "other_school_admin"):
        response = signed_in(role).get("/documents")
        assert response.status_code == 200
        assert "Дроби.txt" not in page(response) and "Конспекты" not in page(response)


def test_the_menus_lead_to_the_documents(signed_in, shelf):
    home = page(signed_in("student").get(shelf["base"]))
    assert 'href="/documents"' in home, "«Мои документы» in the main menu"
    assert f'href="{shelf["base"]}"' in home, "«Школьные документы» in the school menu"


# Uploading ---------------------------------------------------------------------------------------


def test_the_plus_shows_the_limits_before_the_upload(signed_in, shelf):
    teacher = signed_in("teacher")
    listing = page(teacher.get(shelf["base"]))
    assert f'href="{shelf["base"]}/new"' in listing
    form = page(teacher.get(f"{shelf['base']}/new?folder={shelf['folder'].id}"))
    assert "Каждый файл — до 25 МБ" in form
    assert "До 10 файлов за раз, вместе до 50 МБ" in form
    assert "PDF" in form and "Word" in form
    assert f'action="{shelf["base"]}/upload?folder={shelf["folder"].id}"' in form
    assert 'enctype="multipart/form-data"' in form, "works without JavaScript"
    assert "/static/js/upload.js" in form


def test_a_teacher_uploads_a_pdf_into_a_folder_and_students_see_it(app, signed_in, shelf):
    response = upload(signed_in("teacher"), shelf["base"], [(PDF, "Расписание 7А.pdf")], folder=shelf["folder"].id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/documents/folders/{shelf['folder'].id}")
    new = documents()[-1]
    assert (new.name, new.content_type, new.size, new.folder_id) == ("Расписание 7А.pdf", "application/pdf", len(PDF), shelf["folder"].id)
    assert (Path(app.config["INSTANCE_PATH"]) / "uploads" / new.path).read_bytes() == PDF
    listing = page(signed_in("student").get(f"{shelf['base']}/folders/{shelf['folder'].id}"))
    assert "Расписание 7А.pdf" in listing and "Приказ №1.pdf" in listing
    assert "Загрузить" not in listing, "no «+» for a student"


def test_several_files_at_once_with_the_progress_script(signed_in, shelf):
    teacher = signed_in("teacher")
    response = upload(
        teacher, shelf["base"], [(PDF, "a.pdf"), (office(DOCX), "Положение.docx")], headers={"X-Upload": "progress"}
    )
    assert response.status_code == 200
    assert json.loads(response.data) == {"next": shelf["base"]}
    assert "Загружено 2 файла." in page(teacher.get(shelf["base"])), "the flash waits for the page"


@pytest.mark.parametrize(
    "files, message",
    (
        pytest.param([(EXE, "программа.pdf")], "нельзя загрузить", id="a program"),
        pytest.param([(b"<html><script>alert(1)</script></html>", "page.txt")], "нельзя загрузить", id="a web page"),
        pytest.param([(b"x" * (25 * MB + 1), "big.txt")], "больше 25 МБ", id="over the file limit"),
        pytest.param([(b"", "empty.pdf")], "пуст", id="empty"),
        pytest.param([(PDF, "good.pdf"), (EXE, "bad.docx")], "bad.docx", id="one bad of two"),
        pytest.param([(PDF, f"{n}.pdf") for n in range(11)], "Не больше 10 файлов", id="too many"),
        pytest.param([], "Выберите файл", id="none"),
    ),
)
def test_a_refused_upload_says_why_and_leaves_nothing(app, signed_in, shelf, files, message):
    before = (len(documents()), stored_files(app))
    response = upload(signed_in("teacher"), shelf["base"], files)
    assert response.status_code == 400
    assert message in page(response)
    assert 'id="upload-error"' in page(response), "the upload page again, with the reason"
    assert (len(documents()), stored_files(app)) == before


def test_a_request_larger_than_an_upload_may_be_is_refused_unread(app, signed_in, shelf):
    before = stored_files(app)
    response = upload(signed_in("teacher"), shelf["base"], [(b"x" * (20 * MB), f"{n}.txt") for n in range(3)])
    assert response.status_code == 413
    assert "не больше 50 МБ за раз" in page(response)
    assert stored_files(app) == before


def test_an_upload_over_the_chat_limit_but_within_the_documents_limit_passes(signed_in, shelf):
    text = ("Методичка. " * (12 * MB // 20)).encode()
    assert 10 * MB < len(text) < 25 * MB
    assert upload(signed_in("admin"), shelf["base"], [(text, "Методичка.txt")]).status_code == 303
    assert documents()[-1].size == len(text)


def test_an_upload_without_the_form_token_is_refused(app, signed_in, shelf):
    before = stored_files(app)
    response = signed_in("teacher").post(
        f"{shelf['base']}/upload", data={"files": [(io.BytesIO(PDF), "a.pdf")]}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert stored_files(app) == before


def test_an_upload_into_another_schools_folder_is_refused(app, signed_in, shelf, demo):
    with app.test_request_context(), database.connection_context():
        lyceum_admin = demo["lyceum_admin"]
        lyceum = Membership.get(Membership.user == lyceum_admin.id).school
        elsewhere = actions.do_create_folder(school_place(lyceum_admin, lyceum.id), None, "Чужая папка")
    response = upload(signed_in("teacher"), shelf["base"], [(PDF, "a.pdf")], folder=elsewhere.id)
    assert response.status_code == 400
    assert "Этой папки больше нет" in page(response)


# Downloading ----------------------------------------------------------------------------------------


def test_a_pdf_opens_in_the_browser_and_a_broken_download_resumes(signed_in, shelf):
    student = signed_in("student")
    url = f"{shelf['base']}/{shelf['order'].id}"
    whole = student.get(url)
    assert whole.status_code == 200 and whole.data == PDF
    assert whole.headers["Content-Type"] == "application/pdf"
    assert whole.headers["Content-Disposition"].startswith("inline")
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = student.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == PDF[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(PDF)}"
    rest = student.get(url, headers={"Range": "bytes=100-"})
    assert rest.status_code == 206 and part.data + rest.data == PDF
    download = student.get(url + "?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]


def test_a_picture_shows_a_thumbnail_in_the_list_and_opens_whole(signed_in, shelf):
    student = signed_in("student")
    listing = page(student.get(shelf["base"]))
    photo = shelf["photo"]
    assert f'src="{shelf["base"]}/{photo.id}/thumb"' in listing
    thumb = student.get(f"{shelf['base']}/{photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/webp"
    original = student.get(f"{shelf['base']}/{photo.id}")
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["Content-Disposition"].startswith("inline")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in original.headers["Content-Security-Policy"]


def test_other_files_download(signed_in, shelf):
    teacher = signed_in("teacher")
    upload(teacher, shelf["base"], [(office(DOCX), "Положение.docx")])
    response = teacher.get(f"{shelf['base']}/{documents()[-1].id}")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert 'download>Положение.docx' in page(teacher.get(shelf["base"]))


# Deleting and folders ----------------------------------------------------------------------------------


def test_deleting_a_document_removes_its_files_from_disk(app, signed_in, shelf):
    photo = shelf["photo"]
    uploads = Path(app.config["INSTANCE_PATH"]) / "uploads"
    assert (uploads / photo.path).exists() and (uploads / photo.thumb_path).exists()
    response = post_form(signed_in("admin"), f"{shelf['base']}/{photo.id}/delete", {}, page=shelf["base"])
    assert response.status_code == 303
    assert not (uploads / photo.path).exists() and not (uploads / photo.thumb_path).exists()
    assert photo.id not in [d.id for d in documents()]


def test_only_an_empty_folder_is_deleted(signed_in, shelf):
    admin = signed_in("admin")
    folder_url = f"{shelf['base']}/folders/{shelf['folder'].id}"
    refused = post_form(admin, f"{folder_url}/delete", {}, page=shelf["base"], follow_redirects=True)
    assert "Удалить можно только пустую папку" in page(refused)
    with database.connection_context():
        assert Folder.get_or_none(Folder.id == shelf["folder"].id) is not None
    post_form(admin, f"{shelf['base']}/{shelf['order'].id}/delete", {}, page=shelf["base"])
    deleted = post_form(admin, f"{folder_url}/delete", {}, page=shelf["base"])
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith(shelf["base"])
    with database.connection_context():
        assert Folder.get_or_none(Folder.id == shelf["folder"].id) is None


def test_folders_nest_and_are_renamed(signed_in, shelf):
    teacher = signed_in("teacher")
    created = post_form(teacher, f"{shelf['base']}/folders", {"name": "  2026   год ", "parent": shelf["folder"].id}, page="/")
    with database.connection_context():
        inner = Folder.get(Folder.name == "2026 год")
    assert inner.parent_id == shelf["folder"].id
    assert created.headers["Location"].endswith(f"/folders/{inner.id}")
    inside = page(teacher.get(created.headers["Location"]))
    assert "Приказы</a>" in inside, "the breadcrumbs lead back"
    post_form(teacher, f"{shelf['base']}/folders/{inner.id}/rename", {"name": "Приказы за 2026 год"}, page="/")
    assert "Приказы за 2026 год" in page(teacher.get(f"{shelf['base']}/folders/{shelf['folder'].id}"))


@pytest.mark.parametrize("name, message", (("   ", "Назовите папку"), ("я" * 129, "не длиннее 128")))
def test_a_folder_needs_a_fitting_name(signed_in, shelf, name, message):
    response = post_form(signed_in("teacher"), f"{shelf['base']}/folders", {"name": name}, page="/", follow_redirects=True)
    assert message in page(response)
    with database.connection_context():
        assert Folder.select().count() == 1


# «Мои документы» ------------------------------------------------------------------------------------


def test_my_documents_show_the_quota_used_of_total(signed_in, own_shelf):
    listing = page(signed_in("teacher").get("/documents"))
    used = len("Дроби: план урока".encode())
    assert f"Занято {used} Б из 200 МБ" in listing
    assert f'<progress id="quota" max="{200 * MB}" value="{used}"' in listing


def test_my_documents_refuse_what_does_not_fit_the_quota(app, signed_in, own_shelf):
    app.config["PERSONAL_QUOTA_MB"] = 1
    teacher = signed_in("teacher")
    text = ("Конспект. " * 40_000).encode()  # about 0,7 MB
    assert upload(teacher, "/documents", [(text, "Первый.txt")]).status_code == 303
    before = (len(documents()), stored_files(app))
    refused = upload(teacher, "/documents", [(text, "Второй.txt")])
    assert refused.status_code == 400
    assert "Не хватает места в «Моих документах»" in page(refused)
    assert (len(documents()), stored_files(app)) == before
    assert "Свободно в «Моих документах»" in page(teacher.get("/documents/new"))


def test_my_documents_upload_and_delete(app, signed_in):
    student = signed_in("student")
    assert upload(student, "/documents", [(PDF, "Реферат.pdf")]).status_code == 303
    [mine] = documents()
    assert mine.owner_id is not None and mine.school_id is None
    assert student.get(f"/documents/{mine.id}").data == PDF
    assert post_form(student, f"/documents/{mine.id}/delete", {}, page="/documents").status_code == 303
    assert documents() == [] and stored_files(app) == []


def test_the_demo_documents_load(app, demo):
    from db.demo_documents import load_showcase_documents

    with app.app_context(), database.connection_context():
        load_showcase_documents(demo, gymnasium())
        names = {d.name: d for d in Document.select()}
    assert names["Таблица умножения.png"].thumb_path, "a picture, with its thumbnail"
    assert names["План эвакуации, 1 этаж.pdf"].content_type == "application/pdf"
    assert names["Дроби — конспект урока.txt"].owner_id == demo["teacher"].id
    assert len(stored_files(app)) == len(names) + 1
