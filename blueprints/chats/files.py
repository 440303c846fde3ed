"""Files and pictures sent in chats.

``check_uploads`` reads and checks every file before anything is stored. The type is decided
by the content (magic bytes, what a zip holds, whether Pillow opens the picture), never by the
name or the browser's Content-Type; a picture's thumbnail is made then too, in memory, so
phones show a chat without downloading originals. ``do_attach`` only writes, inside the
message's transaction, and notes what it wrote so that ``discard`` can take it back when the
message is not stored after all.
"""
import io
import re
import secrets
import unicodedata
import zipfile
from pathlib import Path
from typing import NamedTuple

from flask import abort, current_app, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from PIL import Image, ImageOps

from blueprints.chats import access
from blueprints.chats.actions import ChatError
from blueprints.chats.routes import bp
from db.models import Attachment, Chat, Message, MessageReport

MB = 1024 * 1024
THUMB_BOX = (320, 320)
THUMB_QUALITY = 70
DISPLAY_BOX = (720, 720)  # a phone's column of text at twice its density
DISPLAY_QUALITY = 62
ORIENTATION = 0x0112  # the EXIF tag
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; decompression bombs do not
ORIGINAL_MAX_AGE = 24 * 3600
THUMB_MAX_AGE = 365 * 24 * 3600
# Served files are never pages: no scripts, no plugins, nothing loaded from elsewhere.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


class FileType(NamedTuple):
    content_type: str
    label: str
    extensions: tuple  # the first is given to a name that lacks a fitting one


TYPES = {
    "jpeg": FileType("image/jpeg", "JPEG", ("jpg", "jpeg", "jpe", "jfif")),
    "png": FileType("image/png", "PNG", ("png",)),
    "gif": FileType("image/gif", "GIF", ("gif",)),
    "webp": FileType("image/webp", "WebP", ("webp",)),
    "pdf": FileType("application/pdf", "PDF", ("pdf",)),
    "docx": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word", ("docx",)
    ),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel", ("xlsx",)),
    "pptx": FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint", ("pptx",)
    ),
    "odt": FileType("application/vnd.oasis.opendocument.text", "ODT", ("odt",)),
    "ods": FileType("application/vnd.oasis.opendocument.spreadsheet", "ODS", ("ods",)),
    "odp": FileType("application/vnd.oasis.opendocument.presentation", "ODP", ("odp",)),
    "text": FileType("text/plain; charset=utf-8", "TXT", ("txt", "csv", "tsv", "md", "log")),
    "mp3": FileType("audio/mpeg", "MP3", ("mp3",)),
    "m4a": FileType("audio/mp4", "M4A", ("m4a", "mp4", "m4b")),
    "ogg": FileType("audio/ogg", "OGG", ("ogg", "oga", "opus")),
    "mp4": FileType("video/mp4", "MP4", ("mp4", "m4v", "m4a")),
    "webm": FileType("video/webm", "WebM", ("webm",)),
}
PICTURES = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}  # Pillow's format names
LABELS = {t.content_type: t.label for t in TYPES.values()}


class Limits(NamedTuple):
    max_file_size: int
    max_files: int
    accept: str  # for <input type="file" accept>: a hint to the file picker, checked here anyway


LIMITS = Limits(
    max_file_size=10 * MB,
    max_files=5,
    accept=",".join(
        sorted({t.content_type.split(";")[0] for t in TYPES.values()})
        + sorted({"." + ext for t in TYPES.values() for ext in t.extensions})
    ),
)

OFFICE_PARTS = {  # main part's content type in [Content_Types].xml → type
    b"wordprocessingml.document.main+xml": "docx",
    b"spreadsheetml.sheet.main+xml": "xlsx",
    b"presentationml.presentation.main+xml": "pptx",
}
OPEN_DOCUMENTS = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)
AUDIO_BRANDS = {b"M4A ", b"M4B "}
VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"M4VH", b"M4VP", b"dash", b"mmp4", b"MSNV",
}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MARKUP = re.compile(r"^\s*<(?:!doctype|!--|\?xml|[a-z][a-z0-9-]*[\s/>])", re.IGNORECASE)


# Checking ------------------------------------------------------------------------------------


class Upload:
    """One checked file, held in memory until ``do_attach`` writes it."""

    def __init__(self, name, data, kind, file_type, picture=None):
        self.name = name
        self.data = data
        self.kind = kind
        self.type = file_type
        self.picture = picture
        self.written = []  # paths under the uploads folder, for discard()


class Picture(NamedTuple):
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int


def check_uploads(file_storages):
    """Read and check the files of a form: ``[Upload]``, or ChatError naming the file at fault."""
    parts = []
    for storage in file_storages:
        data = storage.stream.read(LIMITS.max_file_size + 1)
        if not storage.filename and not data:
            continue  # the empty part a form sends when no file was chosen
        parts.append((storage.filename or "", data))
    if len(parts) > LIMITS.max_files:
        raise ChatError(_l("At most %(n)d files go with one message.", n=LIMITS.max_files))
    return [check_upload(filename, data) for filename, data in parts]


def check_upload(filename, data):
    name = _base_name(filename) or "file"
    # Flask-Babel's lazy strings count as HTML in templates, so what goes into a message
    # must not be able to make a tag (Windows does not allow these characters in names anyway).
    shown = name.replace("<", "‹").replace(">", "›")
    if not data:
        raise ChatError(_l("«%(name)s» is empty.", name=shown))
    if len(data) > LIMITS.max_file_size:
        raise ChatError(
            _l("«%(name)s» is larger than %(mb)d MB.", name=shown, mb=LIMITS.max_file_size // MB)
        )
    key = sniff(data)
    if key is None:
        raise ChatError(
            _l(
                "«%(name)s» cannot be sent: only photos, PDF, Office documents, text, audio and video are allowed.",
                name=shown,
            )
        )
    picture = None
    if key in PICTURES.values():
        key, picture = _open_picture(data, shown)
    file_type = TYPES[key]
    kind = Attachment.IMAGE if picture else Attachment.FILE
    return Upload(_fitting_name(name, file_type), data, kind, file_type, picture)


def sniff(data):
    """The key in TYPES of what ``data`` is, or None for anything not allowed."""
    head = data[:64]
    for magic, key in MAGIC:
        if head.startswith(magic):
            return key
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _zipped_document(data)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM, or Matroska, which is not allowed
        return "webm" if b"webm" in head else None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "m4a" if brand in AUDIO_BRANDS else "mp4" if brand in VIDEO_BRANDS else None
    if _mp3_frame(head):
        return "mp3"
    return _text(data)


def _mp3_frame(head):
    """An MPEG audio layer III frame header (an MP3 without ID3 tags starts with one)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer, bitrate = (head[1] >> 3) & 3, (head[1] >> 1) & 3, head[2] >> 4
    return version != 1 and layer == 1 and bitrate not in (0, 15)


def _zipped_document(data):
    """Office Open XML and OpenDocument files are zips with known parts; with macros, refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                    return None
                with archive.open("mimetype") as part:
                    return OPEN_DOCUMENTS.get(part.read(100).strip())
            if "[Content_Types].xml" not in names:
                return None
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None
            with archive.open("[Content_Types].xml") as part:
                types = part.read(MB)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, KeyError):
        return None
    if b"macroEnabled" in types:
        return None
    return next((key for main, key in OFFICE_PARTS.items() if main in types), None)


def _text(data):
    """Plain UTF-8 text without control characters; web pages and XML are not plain text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if CONTROL.search(text) or MARKUP.match(text[:1024]):
        return None
    return "text"


def _open_picture(data, shown):
    """Decode the whole picture (a damaged one is refused) and make its thumbnail."""
    too_large = ChatError(_l(
        "«%(name)s» is too large a picture: at most %(mp)d megapixels.",
        name=shown, mp=MAX_PIXELS // 1_000_000,
    ))
    try:
        with Image.open(io.BytesIO(data), formats=list(PICTURES)) as image:
            key = PICTURES[image.format]
            if image.width * image.height > MAX_PIXELS:
                raise too_large
            turned = image.getexif().get(ORIENTATION) in (5, 6, 7, 8)
            width, height = (image.height, image.width) if turned else image.size
            thumb, thumb_width, thumb_height = _webp_within(image, THUMB_BOX, THUMB_QUALITY)
    except Image.DecompressionBombError as error:
        raise too_large from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ChatError(_l("«%(name)s» is damaged: the picture does not open.", name=shown)) from error
    return key, Picture(width, height, thumb, thumb_width, thumb_height)


def _webp_within(image, box, quality):
    """An opened, not yet loaded picture as WebP, upright (EXIF) and fit in ``box``:
    ``(bytes, width, height)``."""
    # A colour profile is kept (phone photos are often Display P3) if it is an RGB one.
    icc_profile = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA", "P") else None
    image.draft("RGB", (box[0] * 2, box[1] * 2))  # JPEG decodes smaller, faster
    image.load()
    shown = ImageOps.exif_transpose(image)
    shown = shown.convert("RGBA" if shown.has_transparency_data else "RGB")
    shown.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    shown.save(out, "WEBP", quality=quality, method=4, icc_profile=icc_profile or b"")
    return out.getvalue(), shown.width, shown.height


def _base_name(filename):
    """The file's own name without folders or invisible characters (like U+202E, which
    shows «gpj.exe» as «exe.jpg»)."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")


def _fitting_name(name, file_type):
    """The name to download with: its extension matches the content (a text file sent as
    «run.bat» downloads as «run.bat.txt»), and it fits Attachment.name."""
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in file_type.extensions:
        stem, extension = name, file_type.extensions[0]
    return f"{stem[:250 - len(extension)]}.{extension}"


# Storing -------------------------------------------------------------------------------------


def uploads_folder():
    return Path(current_app.config["INSTANCE_PATH"]) / "uploads"


def _stored(relative):
    path = (uploads_folder() / relative).resolve()
    if uploads_folder().resolve() not in path.parents:
        raise ValueError(f"not an upload: {relative}")
    return path


def _write(upload, relative, data):
    path = _stored(relative)
    with open(path, "xb") as out:  # "x": a file that is there is never overwritten (nor discarded)
        upload.written.append(relative)
        out.write(data)


def do_attach(message, uploads):
    """Write ``uploads`` under random names and attach them to ``message``.

    Runs inside the caller's transaction: if anything fails later, the caller calls
    ``discard(uploads)``.
    """
    (uploads_folder() / "chats").mkdir(parents=True, exist_ok=True)
    for upload in uploads:
        token = secrets.token_hex(16)
        path = f"chats/{token}.{upload.type.extensions[0]}"
        _write(upload, path, upload.data)
        picture, thumb_path = upload.picture, None
        if picture:
            thumb_path = f"chats/{token}.thumb.webp"
            _write(upload, thumb_path, picture.thumb)
        Attachment.create(
            message=message.id,
            kind=upload.kind,
            name=upload.name,
            content_type=upload.type.content_type,
            size=len(upload.data),
            path=path,
            thumb_path=thumb_path,
            width=picture.width if picture else None,
            height=picture.height if picture else None,
            thumb_width=picture.thumb_width if picture else None,
            thumb_height=picture.thumb_height if picture else None,
        )


def _remove(relative):
    _stored(relative).unlink(missing_ok=True)


def discard(uploads):
    """Remove what ``do_attach`` wrote for ``uploads`` (nothing, if it wrote nothing)."""
    for upload in uploads:
        for relative in upload.written:
            _remove(relative)
        upload.written = []


def remove_stored(attachments):
    """Delete the files of attachments whose rows are gone; files already gone are fine."""
    for attachment in attachments:
        for relative in (attachment.path, attachment.thumb_path):
            if relative:
                _remove(relative)


# Serving -------------------------------------------------------------------------------------


def _attachment_of(chat_id, attachment_id):
    """An attachment of a message that is not deleted, for the chat's members; and for the
    school's administrators while the message is reported, so they can judge a picture."""
    attachment = (
        Attachment.select(Attachment, Message, Chat)
        .join(Message)
        .join(Chat)
        .where(
            (Attachment.id == attachment_id)
            & (Message.chat == chat_id)
            & Message.deleted_at.is_null()
        )
        .first()
    )
    if attachment is None:
        abort(404)
    if access.find_chat(current_user, chat_id) is None and not _reported_to(current_user, attachment.message):
        abort(404)
    return attachment


def _reported_to(user, message):
    return access.is_school_admin(user, message.chat.school) and (
        MessageReport.select()
        .where((MessageReport.message == message.id) & MessageReport.resolved_at.is_null())
        .exists()
    )


def _serve(relative, mimetype, max_age, inline, name=None):
    path = _stored(relative)
    if not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype=mimetype, as_attachment=not inline, download_name=name,
        conditional=True, max_age=max_age,
    )
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype != "application/pdf":  # browsers' PDF viewers do not run in a sandbox
        response.headers["Content-Security-Policy"] = SANDBOX
    return response


@bp.route("/chats/<int:chat_id>/files/<int:attachment_id>")
@login_required
def download(chat_id, attachment_id):
    """The file as it was sent; HTTP Range works, so a broken download resumes."""
    attachment = _attachment_of(chat_id, attachment_id)
    inline = attachment.kind == Attachment.IMAGE or attachment.content_type == "application/pdf"
    return _serve(attachment.path, attachment.content_type, ORIGINAL_MAX_AGE, inline, attachment.name)


@bp.route("/chats/<int:chat_id>/files/<int:attachment_id>/thumb")
@login_required
def thumbnail(chat_id, attachment_id):
    attachment = _attachment_of(chat_id, attachment_id)
    if not attachment.thumb_path:
        abort(404)
    response = _serve(attachment.thumb_path, "image/webp", THUMB_MAX_AGE, inline=True)
    response.cache_control.immutable = True  # an attachment never changes
    return response


# Showing -------------------------------------------------------------------------------------


@bp.app_template_filter("file_label")
def file_label(content_type):
    return LABELS.get(content_type, "")


@bp.app_template_filter("file_size")
def file_size(size):
    """1 234 567 → «1,2 МБ» in Russian, "1.2 MB" in English."""
    if size < 1024:
        return _("%(n)s B", n=format_decimal(size))
    if size < MB:
        return _("%(n)s KB", n=_short_number(size / 1024))
    return _("%(n)s MB", n=_short_number(size / MB))


def _short_number(value):
    return format_decimal(value, format="#,##0.#" if value < 10 else "#,##0")


@bp.app_template_global("chat_upload_limits")
def chat_upload_limits():
    return LIMITS



# Shared with school documents and «Мои документы» (blueprints/documents) ---------------------


def check_file(filename, data, max_file_size):
    """``check_upload`` with the caller's size limit (documents take larger files than chats)."""
    name = _base_name(filename) or "file"
    shown = name.replace("<", "‹").replace(">", "›")
    if len(data) > max_file_size:
        raise ChatError(_l("«%(name)s» is larger than %(mb)d MB.", name=shown, mb=max_file_size // MB))
    if not data:
        raise ChatError(_l("«%(name)s» is empty.", name=shown))
    key = sniff(data)
    if key is None:
        raise ChatError(_l(
            "«%(name)s» cannot be uploaded: only photos, PDF, Office documents, text, audio and video are allowed.",
            name=shown,
        ))
    picture = None
    if key in PICTURES.values():
        key, picture = _open_picture(data, shown)
    file_type = TYPES[key]
    return Upload(_fitting_name(name, file_type), data, Attachment.IMAGE if picture else Attachment.FILE,
                  file_type, picture)


def store(upload, folder):
    """Write a checked upload (and its thumbnail) under uploads/<folder>/ with a random name:
    ``(path, thumb_path)``. ``discard([upload])`` takes back what was written."""
    (uploads_folder() / folder).mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    path = f"{folder}/{token}.{upload.type.extensions[0]}"
    _write(upload, path, upload.data)
    thumb_path = None
    if upload.picture:
        thumb_path = f"{folder}/{token}.thumb.webp"
        _write(upload, thumb_path, upload.picture.thumb)
    return path, thumb_path


def store_display(upload, path):
    """Write a WebP of a stored picture (``path``, from ``store``) at the size a page shows it:
    ``(relative, width, height)``, or ``(None, width, height)`` for an animated GIF, which
    is shown as it is. ``discard([upload])`` takes it back with the rest."""
    with Image.open(io.BytesIO(upload.data), formats=list(PICTURES)) as image:
        if getattr(image, "is_animated", False):
            return None, upload.picture.width, upload.picture.height
        data, width, height = _webp_within(image, DISPLAY_BOX, DISPLAY_QUALITY)
    relative = f"{path.rsplit('.', 1)[0]}.display.webp"
    _write(upload, relative, data)
    return relative, width, height


def remove_files(*relatives):
    """Delete stored files (by their paths under the uploads folder); missing ones are fine."""
    for relative in relatives:
        if relative:
            _remove(relative)


def serve_file(relative, mimetype, inline, name=None, thumbnail=False):
    """A stored file with Range support and the safe headers chat files get."""
    response = _serve(relative, mimetype, THUMB_MAX_AGE if thumbnail else ORIGINAL_MAX_AGE, inline, name)
    if thumbnail:
        response.cache_control.immutable = True
    return response

