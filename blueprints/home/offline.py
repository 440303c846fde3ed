"""Offline: the service worker at /sw.js, the page it shows for a page never opened on this
device, and the header that tells the worker whose page each page is.

The worker itself is static/js/sw.js; this route puts its settings in front of it: the
static files to keep (by their hashed URLs, so they are right after every deploy), the
fallback page, and a version made from all of these, so that a deploy that changes any
of them installs a new worker, which drops the old static cache.
"""
import hashlib
import json
from pathlib import Path

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from blueprints.extensions import login_manager, static_url
from blueprints.home.routes import bp

WORKER = "js/sw.js"
SHELL_SUFFIXES = (".css", ".js", ".svg", ".png", ".ico", ".woff2")
# The article editor's files (Quill is three quarters of static/), the call screen's and the
# uploads' scripts: writing an article, a video lesson and an upload need the network anyway,
# and keeping them would put their weight on every first visit (bench/pages.py).
ONLINE_ONLY = ("vendor/quill-", "js/article-editor.js", "js/lesson.js", "css/lesson.css", "js/upload.js")
FALLBACK_TEMPLATE = "home/offline.html"


def shell_files(static_folder):
    """Every style, script and picture under static/ (not their .gz/.br copies, not the worker,
    not the editor's)."""
    root = Path(static_folder)
    names = (path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file() and path.suffix in SHELL_SUFFIXES)
    return sorted(name for name in names if name != WORKER and not name.startswith(ONLINE_ONLY))


@bp.route("/sw.js")
def service_worker():
    static = Path(current_app.static_folder)
    source = (static / WORKER).read_text(encoding="utf-8")
    fallback = Path(current_app.root_path, current_app.template_folder, FALLBACK_TEMPLATE)
    settings = {
        "shell": [static_url(name) for name in shell_files(static)],
        "offline": url_for("home.offline"),
    }
    version = hashlib.sha256(
        "\n".join([json.dumps(settings), source, fallback.read_text(encoding="utf-8")]).encode()
    ).hexdigest()[:12]
    settings["version"] = version
    body = f"self.PARTA_OFFLINE = {json.dumps(settings)};\n{source}"
    response = current_app.response_class(body, mimetype="text/javascript")
    # The browser asks for the worker again on each visit; a 304 keeps that cheap.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    response.set_etag(version)
    return response.make_conditional(request)


@bp.route("/offline")
def offline():
    """Kept by the worker across sign-outs, so it is drawn as for a guest: no menu, no name."""
    return render_template(FALLBACK_TEMPLATE, current_user=login_manager.anonymous_user())


@bp.after_app_request
def name_the_viewer(response):
    """The worker keeps one person's pages at a time and forgets them when another's arrive.

    Only pages the worker may keep (200, HTML) carry it.
    """
    if response.status_code == 200 and response.mimetype == "text/html":
        viewer = current_user.id if current_user.is_authenticated else 0
        response.headers["X-Parta-Viewer"] = str(viewer)
    return response
