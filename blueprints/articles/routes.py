"""Articles of a school (SPEC §9): the list with search, reading, and the editor."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.articles import access, actions
from blueprints.articles.actions import ArticleError
from blueprints.articles.sanitize import display_pictures
from blueprints.chats.files import serve_file
from blueprints.chats.polls import load_results
from blueprints.pagination import after_id, keyset_page, render_list
from blueprints.schools.access import access_school
from db.models import Article

bp = Blueprint("articles", __name__)

PAGE_SIZE = 30


def _menu(school):
    from blueprints.schools.routes import _side_menu_context

    return _side_menu_context(school)


@bp.route("/schools/<int:school_id>/articles")
@login_required
def index(school_id):
    """Published articles, newest first, or those a search finds; the reader's drafts."""
    school = access_school(current_user, school_id)
    menu = _menu(school)
    query = request.args.get("q", "").strip()
    found = actions.search(school, query) if query else Article.published_in(school)
    articles = keyset_page(
        found, (Article.published_at, Article.id), Article.id, after_id(), PAGE_SIZE, descending=True
    )
    return render_list(
        "articles/index.html", "articles/_articles.html", "articles",
        articles=articles, query=query, found_count=found.count() if query else None,
        drafts=list(actions.drafts_for(current_user, school, menu["is_school_admin"])),
        can_write=bool(access.WRITERS & menu["roles"]), **menu,
    )


@bp.route("/schools/<int:school_id>/articles/<int:article_id>")
@login_required
def article(school_id, article_id):
    school, article, roles = access.access_article(current_user, school_id, article_id)
    photos, videos, illustrations = actions.attached(article)
    body = display_pictures(
        article.body_html, illustrations, lambda f: url_for("articles.display", file_id=f.id)
    )
    poll = actions.poll_of(article)
    load_results([poll], viewer=current_user)
    return render_template(
        "articles/article.html", article=article, body=body, photos=photos, videos=videos,
        poll=poll, can_edit=access.can_edit(current_user, article, roles), **_menu(school),
    )


@bp.route("/schools/<int:school_id>/articles/new", methods=["GET", "POST"])
@login_required
def new(school_id):
    school = access.access_writer(current_user, school_id)
    return _editor(school, None)


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit(school_id, article_id):
    school, article = access.access_article_editor(current_user, school_id, article_id)
    return _editor(school, article)


def _editor(school, article):
    if request.method == "POST":
        publish = request.form.get("action") == "publish" or (article is not None and article.is_published)
        try:
            draft = actions.check_draft(request.form, request.files, publish)
            article = actions.do_save(current_user, school, draft, article)
        except ArticleError as error:
            return _editor_page(school, article, str(error), request.form), 422
        if article.is_published:
            flash(_("The article is published."), "success")
        else:
            flash(_("The draft is saved. Only you and the school's administrators see it."), "success")
        return redirect(url_for("articles.article", school_id=school.id, article_id=article.id), 303)
    return _editor_page(school, article)


def _editor_page(school, article, error=None, form=None):
    photos, videos, _illustrations = actions.attached(article) if article else ([], [], {})
    return render_template(
        "articles/editor.html", article=article, error=error,
        title=form.get("title", "") if form else (article.title if article else ""),
        body=form.get("body", "") if form else (article.body_html if article else ""),
        photos=photos, videos=videos, max_photos=actions.MAX_PHOTOS,
        poll_form=actions.poll_editor(article, form), poll_voted=actions.POLL_VOTED,
        max_picture_mb=actions.MAX_PICTURE_SIZE // actions.MB,
        max_video_mb=actions.MAX_VIDEO_SIZE // actions.MB, **_menu(school),
    )


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/unpublish", methods=["POST"])
@login_required
def unpublish(school_id, article_id):
    school, article = access.access_article_editor(current_user, school_id, article_id)
    actions.do_unpublish(article)
    flash(_("The article is back among the drafts."), "success")
    return redirect(url_for("articles.article", school_id=school.id, article_id=article.id), 303)


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/delete", methods=["POST"])
@login_required
def delete(school_id, article_id):
    school, article = access.access_article_editor(current_user, school_id, article_id)
    actions.do_delete(article)
    flash(_("The article is deleted."), "success")
    return redirect(url_for("articles.index", school_id=school.id), 303)


def _poll(article):
    poll = actions.poll_of(article)
    if poll is None:
        abort(404)
    return poll


def _poll_answer(article, poll, error=None):
    """The voter's own view of the poll for htmx, or back to the article for a plain form."""
    if request.headers.get("HX-Target") == f"poll-{poll.id}":
        load_results([poll], viewer=current_user)
        html = render_template("articles/_poll.html", article=article, poll=poll, error=error)
        return html, (400 if error else 200), {"Vary": "HX-Request"}
    if error:
        flash(error, "error")
    return redirect(url_for(
        "articles.article", school_id=article.school_id, article_id=article.id, _anchor=f"poll-{poll.id}"
    ), 303)


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/poll/vote", methods=["POST"])
@login_required
def poll_vote(school_id, article_id):
    """Whoever may read the article votes in its poll (a draft's, only those who see the draft)."""
    _school, article, _roles = access.access_article(current_user, school_id, article_id)
    poll = _poll(article)
    try:
        actions.do_vote(current_user, poll, request.form.getlist("option"))
    except ArticleError as error:
        return _poll_answer(article, poll, str(error))
    return _poll_answer(article, poll)


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/poll/retract", methods=["POST"])
@login_required
def poll_retract(school_id, article_id):
    _school, article, _roles = access.access_article(current_user, school_id, article_id)
    poll = _poll(article)
    try:
        actions.do_retract(current_user, poll)
    except ArticleError as error:
        return _poll_answer(article, poll, str(error))
    return _poll_answer(article, poll)


@bp.route("/schools/<int:school_id>/articles/illustrations", methods=["POST"])
@login_required
def upload_illustration(school_id):
    """The editor's «picture» button: the picture is stored, its URL goes into the text."""
    school = access.access_writer(current_user, school_id)
    try:
        upload = actions.check_picture(request.files.get("picture"))
        if upload is None:
            raise ArticleError(_("Choose a picture."))
    except ArticleError as error:
        return jsonify(error=str(error)), 422
    stored = actions.do_upload_illustration(current_user, school, upload)
    return jsonify(url=url_for("articles.file", file_id=stored.id)), 201


@bp.route("/articles/files/<int:file_id>")
@login_required
def file(file_id):
    """A picture or video of an article, for those who may read it; HTTP Range works."""
    stored = access.access_file(current_user, file_id)
    return serve_file(stored.path, stored.content_type, inline=True, name=stored.name)


@bp.route("/articles/files/<int:file_id>/thumb")
@login_required
def thumb(file_id):
    stored = access.access_file(current_user, file_id)
    if not stored.thumb_path:
        abort(404)
    return serve_file(stored.thumb_path, "image/webp", inline=True, thumbnail=True)


@bp.route("/articles/files/<int:file_id>/display")
@login_required
def display(file_id):
    """A picture at the size the article shows it (the original if it has no such variant)."""
    stored = access.access_file(current_user, file_id)
    if stored.display_path:
        return serve_file(stored.display_path, "image/webp", inline=True, thumbnail=True)
    return serve_file(stored.path, stored.content_type, inline=True, name=stored.name)


@bp.route("/schools/<int:school_id>/articles/<int:article_id>/cover")
@login_required
def cover(school_id, article_id):
    """``?size=small`` for lists, ``?size=display`` for the article, else the original."""
    _school, article, _roles = access.access_article(current_user, school_id, article_id)
    size = request.args.get("size")
    if size == "small":
        relative = article.cover_thumb_path
    elif size == "display":
        relative = article.cover_display_path or article.cover_path  # saved before variants existed
    else:
        relative = article.cover_path
    if not relative:
        abort(404)
    return serve_file(relative, _picture_type(relative), inline=True)


def _picture_type(relative):
    extension = relative.rsplit(".", 1)[-1]
    return {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}[extension]

