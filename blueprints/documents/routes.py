"""School documents (``/schools/<id>/documents``) and «Мои документы» (``/documents``), SPEC §8.

Both places share one set of views: each route is registered twice, and the view gets the
``Place`` (a school's section, or the person's own store) that access.py decided on.
"""
import functools

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from blueprints.chats.files import serve_file
from blueprints.documents import actions
from blueprints.documents.access import (
    access_document,
    access_folder,
    personal_place,
    require_manager,
    school_place,
)
from blueprints.documents.actions import DocumentError
from blueprints.extensions import csrf
from blueprints.pagination import after_id, render_list

bp = Blueprint("documents", __name__)


def _page(place, template, status=200, partial=None, **context):
    """The page; with ``partial``, a paged list whose next page htmx may ask for alone."""
    if place.school is not None:
        from blueprints.schools.routes import _side_menu_context

        context.update(_side_menu_context(place.school))
    if partial:
        return render_list(template, partial, "doc-list", status=status, place=place, **context)
    return render_template(template, place=place, **context), status


def _back_to(place, folder):
    if folder is None:
        return redirect(place.url("index"), code=303)
    return redirect(place.url("folder", folder_id=folder.id), code=303)


def index(place):
    return folder(place, None)


def folder(place, folder_id):
    shown = access_folder(place, folder_id) if folder_id is not None else None
    folders, documents = actions.contents(place, shown, after_id())
    return _page(
        place, "documents/folder.html",
        folder=shown, path=actions.path_to(shown), folders=folders, documents=documents,
        limits=actions.limits_for(place), partial="documents/_documents.html",
    )


def new(place):
    """«+»: the upload limits first, then the upload form."""
    require_manager(place)
    return _upload_page(place, request.args.get("folder", type=int))


def _upload_page(place, folder_id, error=None, status=200):
    try:
        target = actions.check_folder(place, folder_id)
    except DocumentError:
        target = None
    return _page(
        place, "documents/upload.html", status,
        folder=target, path=actions.path_to(target), limits=actions.limits_for(place), error=error,
    )


def upload(place):
    """Files come in larger than the app's usual request limit, so this view lifts the limit for
    itself and checks the CSRF token after that (the view is exempt from the automatic check,
    which would read the body under the smaller limit)."""
    require_manager(place)
    folder_id = request.args.get("folder", type=int)
    try:
        actions.check_request_size(request.content_length)
    except DocumentError as refusal:
        return _upload_page(place, folder_id, refusal.message, 413)
    request.max_content_length = actions.MAX_REQUEST
    csrf.protect()
    try:
        target = actions.check_folder(place, folder_id)
        uploads = actions.check_documents(place, request.files.getlist("files"))
        documents = actions.do_upload(place, target, uploads, current_user)
    except DocumentError as refusal:
        return _upload_page(place, folder_id, refusal.message, 400)
    flash(ngettext("%(num)d file uploaded.", "%(num)d files uploaded.", len(documents)))
    if request.headers.get("X-Upload") == "progress":
        # upload.js goes to the folder itself, so that the page, not the script, shows the flash.
        return {"next": _back_to(place, target).location}
    return _back_to(place, target)


def create_folder(place):
    require_manager(place)
    try:
        parent = actions.check_folder(place, request.form.get("parent", type=int))
        name = actions.check_folder_name(request.form.get("name"))
    except DocumentError as refusal:
        flash(str(refusal.message), "error")
        return _back_to(place, None)
    created = actions.do_create_folder(place, parent, name)
    flash(_("Folder «%(name)s» created.", name=name))
    return _back_to(place, created)


def rename_folder(place, folder_id):
    require_manager(place)
    shown = access_folder(place, folder_id)
    try:
        name = actions.check_folder_name(request.form.get("name"))
    except DocumentError as refusal:
        flash(str(refusal.message), "error")
    else:
        actions.do_rename_folder(shown, name)
        flash(_("Folder renamed."))
    return _back_to(place, shown)


def delete_folder(place, folder_id):
    require_manager(place)
    shown = access_folder(place, folder_id)
    try:
        actions.do_delete_folder(shown)
    except DocumentError as refusal:
        flash(str(refusal.message), "error")
        return _back_to(place, shown)
    flash(_("Folder «%(name)s» deleted.", name=shown.name))
    return _back_to(place, shown.parent)


def download(place, document_id):
    """Pictures and PDF open in the browser unless ``?download=1``; HTTP Range works, so a
    broken download resumes."""
    document = access_document(place, document_id)
    inline = document.opens_in_browser and not request.args.get("download")
    return serve_file(document.path, document.content_type, inline, document.name)


def thumbnail(place, document_id):
    document = access_document(place, document_id)
    if not document.thumb_path:
        abort(404)
    return serve_file(document.thumb_path, "image/webp", inline=True, thumbnail=True)


def delete(place, document_id):
    require_manager(place)
    document = access_document(place, document_id)
    actions.do_delete_document(document)
    flash(_("«%(name)s» deleted.", name=document.name))
    return _back_to(place, document.folder)


ROUTES = (  # (rule under the place, name, view, methods)
    ("", "index", index, ("GET",)),
    ("/folders/<int:folder_id>", "folder", folder, ("GET",)),
    ("/new", "new", new, ("GET",)),
    ("/upload", "upload", upload, ("POST",)),
    ("/folders", "create_folder", create_folder, ("POST",)),
    ("/folders/<int:folder_id>/rename", "rename_folder", rename_folder, ("POST",)),
    ("/folders/<int:folder_id>/delete", "delete_folder", delete_folder, ("POST",)),
    ("/<int:document_id>", "file", download, ("GET",)),
    ("/<int:document_id>/thumb", "thumb", thumbnail, ("GET",)),
    ("/<int:document_id>/delete", "delete", delete, ("POST",)),
)


def _in_school(view):
    @functools.wraps(view)
    def school_view(school_id, **values):
        return view(school_place(current_user, school_id), **values)

    return login_required(school_view)


def _personal(view):
    @functools.wraps(view)
    def personal_view(**values):
        return view(personal_place(current_user), **values)

    return login_required(personal_view)


for rule, name, view, methods in ROUTES:
    bp.add_url_rule(f"/schools/<int:school_id>/documents{rule}", f"school_{name}", _in_school(view), methods=methods)
    bp.add_url_rule(f"/documents{rule}", f"my_{name}", _personal(view), methods=methods)
csrf.exempt(upload)  # checked in the view, after the request limit is raised (see upload())
