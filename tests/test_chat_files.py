"""Files and pictures in chats: limits shown before upload, the type decided by the content,
thumbnails so phones never download originals to show a chat, downloads (with Range) only
for the chat's members, and nothing left on disk by a refused or deleted message."""
import io
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from blueprints.chats import actions, files
from blueprints.chats.actions import ChatError
from conftest import csrf_token, gymnasium
from db import database
from db.models import Attachment, Chat, Message, MessageReport

NOT_MEMBERS = ("parent", "other_class_teacher", "other_school_admin", "admin", "operator")
MEMBERS = ("student", "teacher")


# Making real files ------------------------------------------------------------------------


def jpeg(size=(1200, 600), orientation=None, quality=90):
    """Left half red, right half blue; ``orientation`` 6 means «turn 90° clockwise to show»."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png(size=(64, 48), mode="RGBA"):
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else 128).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"%" + b"x" * 300 + b"\n%%EOF\n"


def office(main_type, extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/word/document.xml" ContentType="{main_type}"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
        for name in extra:
            archive.writestr(name, b"\0")
    return out.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"


def open_document(mimetype, extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", "<office:document-content/>")
        for name in extra:
            archive.writestr(name, "<script:module/>")
    return out.getvalue()


def huge_png():
    """56 megapixels in a few kilobytes: decoding it would take hundreds of megabytes."""
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, "PNG")
    return out.getvalue()


# The chat and sending ---------------------------------------------------------------------


@pytest.fixture
def chat(app, demo):
    """«7А — Математика»: the teacher made it, Мария is in it."""
    with database.connection_context():
        return actions.do_create_chat(
            demo["teacher"], gymnasium(), "7А — Математика", {demo["student"].id}, kind=Chat.GROUP
        )


def stored_files(app):
    folder = Path(app.config["INSTANCE_PATH"]) / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file())


def send(client, chat, uploads, body="", headers=None):
    """POST the chat's form as a browser does; ``uploads`` is [(bytes, filename)]."""
    data = {
        "csrf_token": csrf_token(client, f"/chats/{chat.id}"),
        "client_id": uuid.uuid4().hex,
        "body": body,
        "files": [(io.BytesIO(content), name) for content, name in uploads],
    }
    return client.post(
        f"/chats/{chat.id}/messages", data=data, content_type="multipart/form-data", headers=headers or {}
    )


def attachments():
    with database.connection_context():
        return list(Attachment.select().order_by(Attachment.id))


def message_count():
    with database.connection_context():
        return Message.select().count()


def file_url(chat, attachment, thumb=False):
    return f"/chats/{chat.id}/files/{attachment.id}" + ("/thumb" if thumb else "")


# Pictures -----------------------------------------------------------------------------------


def test_a_phone_photo_gets_a_small_thumbnail_turned_the_right_way(app, signed_in, chat):
    student = signed_in("student")
    photo = jpeg(size=(1200, 600), orientation=6)
    response = send(student, chat, [(photo, "IMG_0001.JPG")])
    assert response.status_code == 303
    [picture] = attachments()
    assert (picture.kind, picture.content_type, picture.name) == ("image", "image/jpeg", "IMG_0001.JPG")
    assert (picture.width, picture.height) == (600, 1200)  # as shown, not as stored
    assert (picture.thumb_width, picture.thumb_height) == (160, 320)
    assert picture.size == len(photo)

    thumb = student.get(file_url(chat, picture, thumb=True))
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    image = Image.open(io.BytesIO(thumb.data))
    assert image.format == "WEBP" and image.size == (160, 320)
    assert not image.getexif(), "the thumbnail carries no metadata"
    top, bottom = image.convert("RGB").getpixel((80, 20)), image.convert("RGB").getpixel((80, 300))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0], "turned 90° clockwise: red on top"
    assert "private" in thumb.headers["Cache-Control"] and "immutable" in thumb.headers["Cache-Control"]

    original = student.get(file_url(chat, picture))
    assert original.status_code == 200 and original.data == photo, "the original is kept as sent"
    assert original.headers["Content-Disposition"].startswith("inline")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in original.headers["Content-Security-Policy"]
    assert "private" in original.headers["Cache-Control"] and "public" not in original.headers["Cache-Control"]


def test_the_chat_shows_the_thumbnail_sized_and_lazy_the_same_for_everyone(app, signed_in, chat):
    student, teacher = signed_in("student"), signed_in("teacher")
    send(student, chat, [(jpeg(), "лето.jpg"), (png(), "schema.png"), (PDF, "Расписание.pdf")], body="Смотрите")
    picture, drawing, pdf = attachments()
    page = student.get(f"/chats/{chat.id}").get_data(as_text=True)
    thumb = file_url(chat, picture, thumb=True)
    assert (
        f'<a class="chat-picture" href="{file_url(chat, picture)}" target="_blank" rel="noopener">'
        f'<img src="{thumb}" width="320" height="160" loading="lazy" decoding="async" alt="лето.jpg"></a>'
    ) in page
    assert f'width="{drawing.thumb_width}" height="{drawing.thumb_height}"' in page
    assert f'href="{file_url(chat, pdf)}"' in page and "Расписание.pdf" in page
    assert re.search(r"PDF, \d+ Б", page), "a type label and a size in Russian"

    def files_block(html):
        return html.split('<div class="chat-files"', 1)[1].split("<footer", 1)[0]

    other = teacher.get(f"/chats/{chat.id}").get_data(as_text=True)
    assert files_block(page) == files_block(other)


def test_a_files_name_is_shown_as_text(signed_in, chat):
    student = signed_in("student")
    send(student, chat, [(PDF, "<img src=x onerror=alert(1)>.pdf"), (jpeg(), "Tom & Jerry <svg onload=alert(1)>.jpg")])
    page = student.get(f"/chats/{chat.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page and "<img src=x" not in page
    assert 'alt="Tom &amp; Jerry &lt;svg onload=alert(1)&gt;.jpg"' in page and "<svg" not in page


def test_the_limits_are_shown_before_uploading(signed_in, chat):
    page = signed_in("student").get(f"/chats/{chat.id}").get_data(as_text=True)
    assert "До 5 файлов, каждый до 10 МБ: фото, PDF, документы Office, аудио и видео." in page


def test_sizes_read_naturally_in_russian(app):
    with app.test_request_context():
        assert files.file_size(512) == "512 Б"
        assert files.file_size(2_516_582) == "2,4 МБ"
        assert files.file_size(15 * 1024 + 100) == "15 КБ"


def test_a_transparent_png_keeps_its_transparency_in_the_thumbnail(signed_in, chat):
    student = signed_in("student")
    send(student, chat, [(png(size=(640, 640)), "logo.png")])
    [picture] = attachments()
    thumb = Image.open(io.BytesIO(student.get(file_url(chat, picture, thumb=True)).data))
    assert thumb.size == (320, 320) and thumb.mode == "RGBA"


# Refusals: a clear message, no message, nothing on disk ---------------------------------------


REFUSED = [
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, "photo.jpg", "нельзя отправить", id="exe"),
    pytest.param(b"<!DOCTYPE html><script>alert(1)</script>", "cat.jpg", "нельзя отправить", id="html"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "icon.png", "нельзя отправить", id="svg"),
    pytest.param(jpeg()[:3000], "broken.jpg", "повреждена", id="truncated-jpeg"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"garbage" * 100, "fake.jpg", "повреждена", id="jpeg-magic-only"),
    pytest.param(office(DOCM, extra=["word/vbaProject.bin"]), "macro.docx", "нельзя отправить", id="docm"),
    pytest.param(
        open_document("application/vnd.oasis.opendocument.text", extra=["Basic/Standard/Module1.xml"]),
        "macro.odt", "нельзя отправить", id="odt-with-macros",
    ),
    pytest.param(b"PK\x03\x04 not really a zip", "report.docx", "нельзя отправить", id="bad-zip"),
    pytest.param(huge_png(), "poster.png", "слишком большая", id="too-many-pixels"),
    pytest.param(b"", "empty.txt", "пустой", id="empty"),
]


@pytest.mark.parametrize("content, name, reason", REFUSED)
def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_kept(app, signed_in, chat, content, name, reason):
    response = send(signed_in("student"), chat, [(content, name)], body="Вот файл")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"«{name}»" in text and reason in text
    assert "Вот файл" in text, "the draft is kept"
    assert message_count() == 0 and attachments() == []
    assert stored_files(app) == []


def test_a_name_in_a_refusal_cannot_make_html(signed_in, chat):
    response = send(signed_in("student"), chat, [(b"MZ\x00", "<img src=x onerror=alert(1)>.jpg")])
    text = response.get_data(as_text=True)
    assert "«‹img src=x onerror=alert(1)›.jpg»" in text and "<img src=x" not in text


def test_a_file_over_10_mb_is_refused(app, signed_in, chat):
    response = send(signed_in("student"), chat, [(b"a" * (10 * 1024 * 1024 + 1), "big.txt")])
    assert response.status_code == 400
    assert "Файл «big.txt» больше 10 МБ." in response.get_data(as_text=True)
    assert message_count() == 0 and stored_files(app) == []


def test_six_files_are_refused(app, signed_in, chat):
    response = send(signed_in("student"), chat, [(PDF, f"{n}.pdf") for n in range(6)])
    assert response.status_code == 400
    assert "не больше 5 файлов" in response.get_data(as_text=True)
    assert message_count() == 0 and stored_files(app) == []


def test_one_bad_file_among_good_ones_refuses_them_all(app, signed_in, chat):
    response = send(signed_in("student"), chat, [(jpeg(), "a.jpg"), (b"MZ\x00\x01\xff", "b.pdf")])
    assert response.status_code == 400 and "«b.pdf»" in response.get_data(as_text=True)
    assert message_count() == 0 and stored_files(app) == []


def test_htmx_sending_gets_the_refusal_as_a_fragment(app, signed_in, chat):
    response = send(signed_in("student"), chat, [(b"MZ\x00\x01\xff", "game.exe")], headers={"HX-Target": "message-form"})
    assert response.status_code == 422 and "«game.exe»" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_an_empty_file_input_sends_a_plain_message(app, signed_in, chat):
    response = send(signed_in("student"), chat, [(b"", "")], body="Без файлов")
    assert response.status_code == 303
    assert message_count() == 1 and attachments() == [] and stored_files(app) == []


# What is accepted, by content -------------------------------------------------------------


ACCEPTED = [
    pytest.param(PDF, "Задание.pdf", "application/pdf", "Задание.pdf", id="pdf"),
    pytest.param(office(DOCX), "Сочинение.docx", DOCX.replace(".main+xml", ""), "Сочинение.docx", id="docx"),
    pytest.param(
        open_document("application/vnd.oasis.opendocument.text"), "essay.odt",
        "application/vnd.oasis.opendocument.text", "essay.odt", id="odt",
    ),
    pytest.param("Домашнее задание: №1–5".encode(), "дз.txt", "text/plain; charset=utf-8", "дз.txt", id="text"),
    pytest.param(b"echo hello\r\n", "run.bat", "text/plain; charset=utf-8", "run.bat.txt", id="script-as-text"),
    pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 100, "song.mp3", "audio/mpeg", "song.mp3", id="mp3"),
    pytest.param(b"OggS\x00\x02" + b"\0" * 100, "voice", "audio/ogg", "voice.ogg", id="ogg"),
    pytest.param(
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + b"\0" * 100, "lesson.mp4", "video/mp4",
        "lesson.mp4", id="mp4",
    ),
    pytest.param(
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\0" * 100, "clip.webm", "video/webm",
        "clip.webm", id="webm",
    ),
    pytest.param(png(), "picture.jpg", "image/png", "picture.jpg.png", id="png-named-jpg"),
]


@pytest.mark.parametrize("content, name, content_type, stored_name", ACCEPTED)
def test_the_type_is_decided_by_the_content(app, signed_in, chat, content, name, content_type, stored_name):
    response = send(signed_in("student"), chat, [(content, name)])
    assert response.status_code == 303, response.get_data(as_text=True)
    [attachment] = attachments()
    assert (attachment.content_type, attachment.name) == (content_type, stored_name)
    assert stored_name not in str(attachment.path) and "/" not in attachment.path.removeprefix("chats/")
    assert len(stored_files(app)) == (2 if attachment.kind == "image" else 1)


def test_documents_download_as_attachments_with_their_russian_name(signed_in, chat):
    student = signed_in("student")
    send(student, chat, [(office(DOCX), "Сочинение.docx")])
    [attachment] = attachments()
    response = signed_in("teacher").get(file_url(chat, attachment))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%D0%A1%D0%BE%D1%87%D0%B8%D0%BD%D0%B5%D0%BD%D0%B8%D0%B5.docx" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert student.get(file_url(chat, attachment, thumb=True)).status_code == 404, "no thumbnail"


def test_a_pdf_opens_in_the_browser_and_resumes_with_range(signed_in, chat):
    student = signed_in("student")
    send(student, chat, [(PDF, "Расписание.pdf")])
    [attachment] = attachments()
    whole = student.get(file_url(chat, attachment))
    assert whole.status_code == 200 and whole.data == PDF
    assert whole.headers["Content-Disposition"].startswith("inline")
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = student.get(file_url(chat, attachment), headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == PDF[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(PDF)}"
    rest = student.get(file_url(chat, attachment), headers={"Range": "bytes=100-"})
    assert rest.status_code == 206 and part.data + rest.data == PDF


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ("anonymous", *MEMBERS, *NOT_MEMBERS))
@pytest.mark.parametrize("thumb", (False, True), ids=("original", "thumbnail"))
def test_only_the_chats_members_get_its_files(signed_in, chat, role, thumb):
    send(signed_in("student"), chat, [(jpeg(), "class.jpg")])
    [picture] = attachments()
    response = signed_in(role).get(file_url(chat, picture, thumb))
    expected = 302 if role == "anonymous" else 200 if role in MEMBERS else 404
    assert response.status_code == expected


def test_a_file_is_found_only_through_its_own_chat(app, signed_in, demo, chat):
    send(signed_in("student"), chat, [(PDF, "a.pdf")])
    [attachment] = attachments()
    with database.connection_context():
        other = actions.do_create_chat(demo["teacher"], gymnasium(), "Другой", {demo["student"].id})
    teacher = signed_in("teacher")
    assert teacher.get(f"/chats/{other.id}/files/{attachment.id}").status_code == 404
    assert teacher.get(f"/chats/{chat.id}/files/{attachment.id + 1}").status_code == 404


def test_the_schools_administrators_see_a_reported_picture_until_they_decide(signed_in, chat):
    student, teacher, admin = signed_in("student"), signed_in("teacher"), signed_in("admin")
    send(student, chat, [(jpeg(), "bad.jpg")])
    [picture] = attachments()
    with database.connection_context():
        message = Message.get()
        school_id = gymnasium().id
    assert admin.get(file_url(chat, picture, thumb=True)).status_code == 404
    teacher.post(
        f"/chats/{chat.id}/messages/{message.id}/report",
        data={"csrf_token": csrf_token(teacher, f"/chats/{chat.id}"), "reason": "Неприличная картинка"},
    )
    reports = admin.get(f"/schools/{school_id}/reports").get_data(as_text=True)
    assert file_url(chat, picture, thumb=True) in reports
    assert admin.get(file_url(chat, picture, thumb=True)).status_code == 200
    assert admin.get(file_url(chat, picture)).status_code == 200
    assert signed_in("other_school_admin").get(file_url(chat, picture)).status_code == 404
    with database.connection_context():
        report_id = MessageReport.get().id
    admin.post(
        f"/schools/{school_id}/reports",
        data={"csrf_token": csrf_token(admin, f"/schools/{school_id}/reports"), "report": report_id,
              "action": "dismiss"},
    )
    assert admin.get(file_url(chat, picture)).status_code == 404


# Deleting and cleaning up ----------------------------------------------------------------------


def test_deleting_the_message_removes_its_files_from_disk(app, signed_in, chat):
    student = signed_in("student")
    send(student, chat, [(jpeg(), "a.jpg"), (PDF, "b.pdf")])
    picture, pdf = attachments()
    assert len(stored_files(app)) == 3
    with database.connection_context():
        message = Message.get()
    response = student.post(
        f"/chats/{chat.id}/messages/{message.id}/delete",
        data={"csrf_token": csrf_token(student, f"/chats/{chat.id}")},
    )
    assert response.status_code == 303
    assert stored_files(app) == [] and attachments() == []
    assert student.get(file_url(chat, picture)).status_code == 404
    assert student.get(file_url(chat, picture, thumb=True)).status_code == 404


def test_discard_takes_back_what_a_failed_transaction_wrote(app, demo, chat):
    uploads_in = [FileStorage(io.BytesIO(jpeg()), "a.jpg"), FileStorage(io.BytesIO(PDF), "b.pdf")]
    with app.test_request_context(), database.connection_context():
        uploads = files.check_uploads(uploads_in)
        assert stored_files(app) == [], "checking writes nothing"
        with pytest.raises(RuntimeError):
            with database.atomic():
                message = Message.create(chat=chat.id, author=demo["student"].id, client_id=uuid.uuid4().hex)
                files.do_attach(message, uploads)
                assert len(stored_files(app)) == 3
                raise RuntimeError("the commit failed")
        files.discard(uploads)
        files.discard(uploads)
        files.discard([])
        assert stored_files(app) == [] and Attachment.select().count() == 0


def test_removing_files_already_gone_is_fine(app, signed_in, chat):
    send(signed_in("student"), chat, [(jpeg(), "a.jpg")])
    [picture] = attachments()
    for path in stored_files(app):
        path.unlink()
    with app.test_request_context():
        files.remove_stored([picture])


def test_check_uploads_names_the_file_in_the_error(app):
    with app.test_request_context(), pytest.raises(ChatError) as refused:
        files.check_uploads([FileStorage(io.BytesIO(b"\x00\x01binary"), "C:\\Users\\Маша\\notes.txt")])
    assert "«notes.txt»" in str(refused.value.message)
