"""Uploading, foldering and deleting documents: ``check_*`` refuses bad input before anything
is stored, ``do_*`` writes inside a transaction.

Files are checked by content with the chats' checker (blueprints/chats/files.py) and stored
the same way, under random names in instance/uploads/documents/.
"""
from typing import NamedTuple, Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from peewee import JOIN, fn

from blueprints.chats.actions import ChatError
from blueprints.chats.files import LIMITS as CHAT_LIMITS
from blueprints.chats.files import MB, check_file, discard, file_size, remove_files, store
from blueprints.pagination import keyset_page
from db import database
from db.models import Document, Folder, User

MAX_FILE_SIZE = 25 * MB
MAX_FILES = 10
MAX_UPLOAD = 50 * MB  # all the files of one upload together
MAX_REQUEST = MAX_UPLOAD + MB  # the form around them
FOLDER_NAME_LENGTH = 128
STORAGE_FOLDER = "documents"


class DocumentError(Exception):
    """Bad input: ``message`` is a lazy string shown to the person in their language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class Limits(NamedTuple):
    max_file_size: int
    max_files: int
    max_upload: int
    accept: str
    quota: Optional[int]  # «Мои документы» only
    used: Optional[int]

    @property
    def free(self):
        return None if self.quota is None else max(self.quota - self.used, 0)


def personal_quota():
    return current_app.config["PERSONAL_QUOTA_MB"] * MB


def used_space(user):
    return Document.select(fn.COALESCE(fn.SUM(Document.size), 0)).where(Document.owner == user.id).scalar()


def limits_for(place):
    if place.owner is None:
        return Limits(MAX_FILE_SIZE, MAX_FILES, MAX_UPLOAD, CHAT_LIMITS.accept, None, None)
    return Limits(
        MAX_FILE_SIZE, MAX_FILES, MAX_UPLOAD, CHAT_LIMITS.accept, personal_quota(), used_space(place.owner)
    )


# Reading -------------------------------------------------------------------------------------


DOCUMENTS_PAGE_SIZE = 50


def contents(place, folder, after=None):
    """The folders and documents right inside ``folder`` (None: the top), by name.

    Every folder (on the first page), and a page of the documents (after the one with id
    ``after``)."""
    parent = Folder.parent.is_null() if folder is None else Folder.parent == folder.id
    in_folder = Document.folder.is_null() if folder is None else Document.folder == folder.id
    folders = Folder.select().where(place.of(Folder) & parent).order_by(fn.LOWER(Folder.name), Folder.id)
    documents = keyset_page(
        Document.select(Document, User)
        .join(User, JOIN.LEFT_OUTER, on=Document.uploaded_by)
        .where(place.of(Document) & in_folder),
        (fn.LOWER(Document.name), Document.id),
        Document.id,
        after,
        DOCUMENTS_PAGE_SIZE,
    )
    return ([] if after else list(folders)), documents


def path_to(folder):
    """The folders from the top down to ``folder``, for the breadcrumbs."""
    path = []
    while folder is not None:
        path.append(folder)
        folder = folder.parent
    return path[::-1]


# Uploading -----------------------------------------------------------------------------------


def check_request_size(content_length):
    if content_length and content_length > MAX_REQUEST:
        raise DocumentError(_l(
            "The files are too large: at most %(mb)d MB at a time, and %(file_mb)d MB a file.",
            mb=MAX_UPLOAD // MB, file_mb=MAX_FILE_SIZE // MB,
        ))


def check_documents(place, file_storages):
    """Read and check the files of an upload form: ``[Upload]``, or DocumentError."""
    parts = []
    for storage in file_storages:
        data = storage.stream.read(MAX_FILE_SIZE + 1)
        if not storage.filename and not data:
            continue  # the empty part a form sends when no file was chosen
        parts.append((storage.filename or "", data))
    if not parts:
        raise DocumentError(_l("Choose a file to upload."))
    if len(parts) > MAX_FILES:
        raise DocumentError(_l("At most %(n)d files can be uploaded at a time.", n=MAX_FILES))
    total = sum(len(data) for _, data in parts)
    if total > MAX_UPLOAD:
        raise DocumentError(_l("At most %(mb)d MB can be uploaded at a time.", mb=MAX_UPLOAD // MB))
    try:
        uploads = [check_file(name, data, MAX_FILE_SIZE) for name, data in parts]
    except ChatError as refusal:
        raise DocumentError(refusal.message) from refusal
    if place.owner is not None:
        _check_quota(place.owner, total)
    return uploads


def _check_quota(user, adding):
    quota = personal_quota()
    used = used_space(user)
    if used + adding > quota:
        raise DocumentError(_l(
            "Not enough room in «My documents»: %(free)s free of %(quota)s, the files take %(size)s.",
            free=file_size(max(quota - used, 0)), quota=file_size(quota), size=file_size(adding),
        ))


def check_folder(place, folder_id):
    """The folder an upload or a new folder goes into: None for the top."""
    if not folder_id:
        return None
    folder = Folder.get_or_none((Folder.id == folder_id) & place.of(Folder))
    if folder is None:
        raise DocumentError(_l("That folder is gone. Reload the page."))
    return folder


def do_upload(place, folder, uploads, user):
    """Store ``uploads`` in ``folder``; nothing stays on disk if anything fails."""
    try:
        with database.atomic():
            if place.owner is not None:
                _lock(place.owner)
                _check_quota(place.owner, sum(len(u.data) for u in uploads))
            documents = []
            for upload in uploads:
                path, thumb_path = store(upload, STORAGE_FOLDER)
                documents.append(Document.create(
                    school=place.school.id if place.school is not None else None,
                    owner=place.owner.id if place.owner is not None else None,
                    folder=folder.id if folder is not None else None,
                    name=upload.name,
                    content_type=upload.type.content_type,
                    size=len(upload.data),
                    path=path,
                    thumb_path=thumb_path,
                    uploaded_by=user.id,
                ))
    except BaseException:
        discard(uploads)
        raise
    return documents


def _lock(user):
    """Two uploads of one person at once must not both pass the quota."""
    query = User.select(User.id).where(User.id == user.id)
    if getattr(database.obj, "for_update", False):
        query = query.for_update()
    query.get()


def do_delete_document(document):
    with database.atomic():
        Document.delete().where(Document.id == document.id).execute()
    remove_files(document.path, document.thumb_path)


# Folders -------------------------------------------------------------------------------------


def check_folder_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise DocumentError(_l("Name the folder."))
    if len(name) > FOLDER_NAME_LENGTH:
        raise DocumentError(_l("A folder's name is at most %(n)d characters.", n=FOLDER_NAME_LENGTH))
    return name


def do_create_folder(place, parent, name):
    return Folder.create(
        school=place.school.id if place.school is not None else None,
        owner=place.owner.id if place.owner is not None else None,
        parent=parent.id if parent is not None else None,
        name=name,
    )


def do_rename_folder(folder, name):
    Folder.update(name=name).where(Folder.id == folder.id).execute()


def do_delete_folder(folder):
    """Only an empty folder is deleted, so that no document goes unnoticed."""
    with database.atomic():
        if (
            Folder.select().where(Folder.parent == folder.id).exists()
            or Document.select().where(Document.folder == folder.id).exists()
        ):
            raise DocumentError(_l("Only an empty folder can be deleted: delete what is in it first."))
        Folder.delete().where(Folder.id == folder.id).execute()
