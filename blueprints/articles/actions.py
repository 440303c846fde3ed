"""Writing articles: ``check_*`` validates everything that can fail, ``do_*`` writes.

Files are checked by content with the chats' checker (blueprints/chats/files.py) before
anything is stored; what was written is taken back if the article is not saved after all.
An article's poll follows the chats' rules (blueprints/chats/polls.py), checked and voted on
by the same code.
"""
import datetime as dt
import re
from contextlib import contextmanager

import peewee as pw
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc

from blueprints.articles.sanitize import picture_ids, sanitize, text_of
from blueprints.chats import polls as chat_polls
from blueprints.chats.actions import ChatError
from blueprints.chats.files import check_file, discard, remove_files, store, store_display
from db import database
from db.models import Article, ArticleFile, Poll, PollOption, PollVote, User, utcnow

MB = 1024 * 1024
MAX_PICTURE_SIZE = 10 * MB
MAX_VIDEO_SIZE = 15 * MB  # a request is at most 16 MB (MAX_CONTENT_LENGTH)
MAX_PHOTOS = 10
MAX_TITLE = 200
MAX_BODY = 200_000
VIDEO_TYPES = {"video/mp4", "video/webm"}
FOLDER = "articles"
UNCLAIMED_FOR = dt.timedelta(days=1)  # an editor left open this long has been abandoned
WORD = re.compile(r"\w+")
RUSSIAN = pw.SQL("'russian'")  # written as in the GIN index of db/migrations/006_articles.py
POLL_OPTIONS = chat_polls.OPTIONS_MAX  # answer fields in the editor; blank ones are skipped
LOCAL_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")  # as <input type=datetime-local> sends
POLL_VOTED = _l("People have already voted in this poll, so its question and answers can no longer "
                "be changed. To ask something else, delete the poll and add a new one.")


class ArticleError(Exception):
    """Bad input, said in words a writer understands."""


@contextmanager
def _as_article_error():
    """The chats' poll checks say what is wrong as a ChatError; here it is an ArticleError."""
    try:
        yield
    except ChatError as error:
        raise ArticleError(str(error.message)) from error


# Checking ------------------------------------------------------------------------------------


def _read(storage, limit):
    """``(name, data)`` of a form's file field, or None when nothing was chosen."""
    if storage is None:
        return None
    data = storage.stream.read(limit + 1)
    if not storage.filename and not data:
        return None
    return storage.filename or "", data


def check_picture(storage):
    """A checked picture (with its thumbnail made), or None when no file was chosen."""
    part = _read(storage, MAX_PICTURE_SIZE)
    if part is None:
        return None
    try:
        upload = check_file(*part, MAX_PICTURE_SIZE)
    except ChatError as error:
        raise ArticleError(str(error)) from error
    if upload.picture is None:
        raise ArticleError(_l("«%(name)s» is not a picture: choose a JPEG, PNG, GIF or WebP file.",
                              name=upload.name))
    return upload


def check_video(storage):
    part = _read(storage, MAX_VIDEO_SIZE)
    if part is None:
        return None
    try:
        upload = check_file(*part, MAX_VIDEO_SIZE)
    except ChatError as error:
        raise ArticleError(str(error)) from error
    if upload.type.content_type not in VIDEO_TYPES:
        raise ArticleError(_l("«%(name)s» is not a video: choose an MP4 or WebM file.", name=upload.name))
    return upload


def check_article(title, body, publish):
    """``(title, dirty body)`` stripped; a published article needs a title and some text."""
    title = " ".join((title or "").split())
    body = body or ""
    if not title:
        raise ArticleError(_l("Give the article a title."))
    if len(title) > MAX_TITLE:
        raise ArticleError(_l("The title is too long: at most %(n)d characters.", n=MAX_TITLE))
    if len(body) > MAX_BODY:
        raise ArticleError(_l("The article is too long to save. Split it into two."))
    if publish and not text_of(sanitize(body)) and not picture_ids(body):
        raise ArticleError(_l("The article is empty: write its text before publishing."))
    return title, body


class PollDraft:
    """The editor's «Опрос» section, checked: a poll (``question`` set), no poll (``question``
    empty), or ``remove`` the article's poll. ``ends_local``: Moscow time, or None."""

    def __init__(self, question="", options=(), anonymous=False, multiple=False, retractable=True,
                 ends_local=None, remove=False):
        self.question = question
        self.options = list(options)
        self.anonymous, self.multiple, self.retractable = anonymous, multiple, retractable
        self.ends_local = ends_local
        self.remove = remove

    def same_as(self, poll, options, ends_at):
        """Whether this is ``poll`` (with its answers ``options``) unchanged."""
        return (self.question, self.options, self.anonymous, self.multiple, self.retractable, ends_at) == (
            poll.question, options, poll.anonymous, poll.multiple, poll.retractable, poll.ends_at
        )


def _local_time(text):
    text = (text or "").strip()
    if not text:
        return None
    for layout in LOCAL_TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ArticleError(_l("Give the end of voting as a date and time."))


def check_poll(form):
    """The editor's «Опрос» section: None leaves the article's poll as it is (a form without
    the section, or a poll people voted in, which the editor shows but does not send)."""
    if form.get("poll_remove") == "1":
        return PollDraft(remove=True)
    if "poll_question" not in form:
        return None
    question, texts = form.get("poll_question", ""), form.getlist("poll_option")
    if not question.strip() and not any(t.strip() for t in texts):
        return PollDraft()
    with _as_article_error():
        return PollDraft(
            chat_polls.check_question(question), chat_polls.check_options(texts),
            anonymous=form.get("poll_anonymous") == "1", multiple=form.get("poll_multiple") == "1",
            retractable=form.get("poll_retractable") == "1",
            ends_local=_local_time(form.get("poll_ends_at")),
        )


class Draft:
    """What the editor sent, checked: the article's fields, the files to attach, its poll."""

    def __init__(self, title, body, publish, cover=None, photos=(), video=None,
                 remove_cover=False, remove_files=(), poll=None):
        self.title, self.body = check_article(title, body, publish)
        self.publish = publish
        self.cover = cover
        self.photos = list(photos)
        self.video = video
        self.remove_cover = remove_cover
        self.remove_files = set(remove_files)
        self.poll = poll

    def uploads(self):
        return [u for u in (self.cover, *self.photos, self.video) if u is not None]


def check_draft(form, files, publish):
    """Check a submitted editor form; nothing is stored yet."""
    photos = [s for s in files.getlist("photos") if s.filename]
    if len(photos) > MAX_PHOTOS:
        raise ArticleError(_l("At most %(n)d photos go with one article.", n=MAX_PHOTOS))
    draft = Draft(
        form.get("title"), form.get("body"), publish,
        cover=check_picture(files.get("cover")),
        photos=[check_picture(s) for s in photos],
        video=check_video(files.get("video")),
        remove_cover=form.get("remove_cover") == "1",
        remove_files=(int(v) for v in form.getlist("remove_file") if v.isdigit()),
        poll=check_poll(form),
    )
    return draft


# Writing -------------------------------------------------------------------------------------


def do_upload_illustration(user, school, upload):
    """Store a picture inserted in the editor; it joins an article when that is saved."""
    try:
        with database.atomic():
            path, thumb_path = store(upload, FOLDER)
            display_path, width, height = store_display(upload, path)
            stored = ArticleFile.create(
                school=school, uploader=user, kind=ArticleFile.ILLUSTRATION, name=upload.name,
                content_type=upload.type.content_type, size=len(upload.data), path=path,
                thumb_path=thumb_path, display_path=display_path, width=width, height=height,
            )
    except Exception:
        discard([upload])
        raise
    prune_unclaimed(school)
    return stored


def prune_unclaimed(school, older_than=UNCLAIMED_FOR):
    """Pictures put into the editor of an article that was never saved: gone after a day.
    Called as the school's writers upload more, so no scheduler is needed."""
    stale = list(ArticleFile.select().where(
        (ArticleFile.school == school) & ArticleFile.article.is_null()
        & (ArticleFile.created_at < utcnow() - older_than)
    ))
    if not stale:
        return 0
    ArticleFile.delete().where(ArticleFile.id.in_([f.id for f in stale])).execute()
    remove_files(*_paths(stale))
    return len(stale)


def _paths(files):
    return [p for f in files for p in (f.path, f.thumb_path, f.display_path)]


def do_save(user, school, draft, article=None):
    """Create or change an article from a checked ``Draft``; publishing sets its date once."""
    try:
        with database.atomic():
            article, gone = _save(user, school, draft, article)
    except Exception:
        discard(draft.uploads())
        raise
    remove_files(*gone)  # after commit: a failed save keeps the files it would have dropped
    return article


def _save(user, school, draft, article):
    now = utcnow()
    if article is None:
        article = Article(school=school, author=user, created_at=now)
    allowed = _pictures_allowed(user, school, article, picture_ids(draft.body))
    article.title = draft.title
    article.body_html = sanitize(draft.body, allowed)
    article.body_text = text_of(article.body_html)
    article.updated_at = now
    if draft.publish:
        article.status = Article.PUBLISHED
        article.published_at = article.published_at or now
    gone = []
    if (draft.cover or draft.remove_cover) and article.cover_path:
        gone += [article.cover_path, article.cover_thumb_path, article.cover_display_path]
        article.cover_path = article.cover_thumb_path = article.cover_display_path = None
        article.cover_width = article.cover_height = None
    if draft.cover:
        article.cover_path, article.cover_thumb_path = store(draft.cover, FOLDER)
        article.cover_display_path, article.cover_width, article.cover_height = store_display(
            draft.cover, article.cover_path
        )
    article.save()
    if allowed:
        ArticleFile.update(article=article).where(
            ArticleFile.id.in_(allowed) & ArticleFile.article.is_null()
        ).execute()
    gone += _remove_attached(article, draft.remove_files)
    for kind, upload in [(ArticleFile.PHOTO, p) for p in draft.photos] + [(ArticleFile.VIDEO, draft.video)]:
        if upload is not None:
            _attach(user, school, article, kind, upload)
    _save_poll(article, draft.poll)
    _index(article)
    return article, gone


def _save_poll(article, wanted):
    """Make, change or delete the article's one poll as ``wanted`` (a ``PollDraft``; None keeps
    it). A poll people voted in is never changed, only deleted: changing the answers under
    their votes would turn them into votes for something else."""
    if wanted is None:
        return
    poll = poll_of(article)
    if wanted.remove:
        if poll is not None:
            poll.delete_instance()  # its answers and votes go by ON DELETE CASCADE
        return
    ends_at = to_utc(wanted.ends_local) if wanted.ends_local else None
    if poll is not None:
        if wanted.same_as(poll, [o.text for o in _options(poll)], ends_at):
            return
        if PollVote.select().where(PollVote.poll == poll.id).exists():
            raise ArticleError(POLL_VOTED)
        poll.delete_instance()
    if not wanted.question:
        return
    if ends_at is not None and (poll is None or ends_at != poll.ends_at):
        with _as_article_error():
            ends_at = chat_polls.check_ends_at(wanted.ends_local)
    created = Poll.create(
        article=article.id, question=wanted.question, anonymous=wanted.anonymous,
        multiple=wanted.multiple, retractable=wanted.retractable, ends_at=ends_at,
    )
    PollOption.insert_many(
        [{"poll": created.id, "text": text, "position": i} for i, text in enumerate(wanted.options)]
    ).execute()


def _options(poll):
    return PollOption.select().where(PollOption.poll == poll.id).order_by(PollOption.position, PollOption.id)


def _pictures_allowed(user, school, article, ids):
    """Of the article files the HTML refers to: this article's, and the writer's own
    illustrations not yet in an article. Others' pictures are dropped from the text."""
    if not ids:
        return set()
    owned = ArticleFile.article == article.id if article.id else pw.SQL("0 = 1")
    unclaimed = ArticleFile.article.is_null() & (ArticleFile.uploader == user)
    rows = ArticleFile.select(ArticleFile.id).where(
        ArticleFile.id.in_(ids) & (ArticleFile.school == school)
        & (ArticleFile.kind == ArticleFile.ILLUSTRATION) & (owned | unclaimed)
    )
    return {row.id for row in rows}


def _attach(user, school, article, kind, upload):
    path, thumb_path = store(upload, FOLDER)
    display_path, width, height = store_display(upload, path) if upload.picture else (None, None, None)
    ArticleFile.create(
        school=school, article=article, uploader=user, kind=kind, name=upload.name,
        content_type=upload.type.content_type, size=len(upload.data), path=path,
        thumb_path=thumb_path, display_path=display_path, width=width, height=height,
    )


def _remove_attached(article, ids):
    if not ids:
        return []
    rows = list(ArticleFile.select().where(
        (ArticleFile.article == article) & ArticleFile.id.in_(ids)
        & (ArticleFile.kind != ArticleFile.ILLUSTRATION)
    ))
    ArticleFile.delete().where(ArticleFile.id.in_([r.id for r in rows])).execute()
    return _paths(rows)


def do_unpublish(article):
    """Back to a draft: the author and administrators still see it, readers no longer."""
    with database.atomic():
        article.status = Article.DRAFT
        article.updated_at = utcnow()
        article.save()
        _index(article)


def do_delete(article):
    files = list(article.files)
    paths = [article.cover_path, article.cover_thumb_path, article.cover_display_path] + _paths(files)
    with database.atomic():
        _unindex(article.id)
        article.delete_instance()  # its files' rows go by ON DELETE CASCADE
    remove_files(*paths)


# Voting in an article's poll --------------------------------------------------------------


def _lock_reader(user):
    """Serialise one person's votes: a no-op UPDATE of their own row takes its row lock
    (PostgreSQL) or the write lock (SQLite) before anything is read, so two votes sent at
    once run one after the other and the second sees the first (as chats lock the member)."""
    User.update(session_epoch=User.session_epoch).where(User.id == user.id).execute()


def do_vote(user, poll, option_ids):
    """Vote, or change one's vote where the poll allows it. Who may: blueprints/articles/access.py."""
    with _as_article_error():
        chat_polls.record_vote(user, poll, option_ids, lambda: _lock_reader(user))


def do_retract(user, poll):
    with _as_article_error():
        chat_polls.withdraw_vote(user, poll, lambda: _lock_reader(user))


# Reading -------------------------------------------------------------------------------------


def poll_of(article):
    """The article's poll, or None."""
    return Poll.get_or_none(Poll.article == article.id) if article.id else None


def poll_editor(article, form=None):
    """What the editor's «Опрос» section shows: the form sent back after an error, else the
    article's poll. ``locked``: people voted, so the poll is shown but not editable."""
    poll = poll_of(article) if article is not None else None
    voted = poll is not None and PollVote.select().where(PollVote.poll == poll.id).exists()
    if poll is not None and (voted or form is None or "poll_question" not in form):
        options = [o.text for o in _options(poll)]
        shown = {
            "question": poll.question, "options": options, "anonymous": poll.anonymous,
            "multiple": poll.multiple, "retractable": poll.retractable,
            "ends_at": _local_input(poll.ends_at), "poll": poll,
        }
    elif form is not None and "poll_question" in form:
        shown = {
            "question": form.get("poll_question", ""), "options": form.getlist("poll_option"),
            "anonymous": form.get("poll_anonymous") == "1", "multiple": form.get("poll_multiple") == "1",
            "retractable": form.get("poll_retractable") == "1", "ends_at": form.get("poll_ends_at", ""),
            "poll": poll,
        }
    else:
        shown = {"question": "", "options": [], "anonymous": False, "multiple": False,
                 "retractable": True, "ends_at": "", "poll": None}
    shown["options"] = (shown["options"] + [""] * POLL_OPTIONS)[:POLL_OPTIONS]
    filled = [i + 1 for i, text in enumerate(shown["options"]) if text.strip()]
    shown["open_fields"] = max(chat_polls.OPTIONS_SHOWN, filled[-1] if filled else 0)
    shown["locked"] = voted
    shown["remove"] = form is not None and form.get("poll_remove") == "1"
    return shown


def _local_input(moment):
    """Naive UTC as the value of an <input type=datetime-local> in the app's time zone."""
    return to_user_timezone(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""



def drafts_for(user, school, is_admin):
    """Drafts a person sees in the list: their own; an administrator, every draft of the school."""
    query = Article.select().where((Article.school == school) & (Article.status == Article.DRAFT))
    if not is_admin:
        query = query.where(Article.author == user)
    return query.order_by(Article.updated_at.desc())


def attached(article):
    """``(photos, videos, illustrations)`` of the article: the first two in the order they
    were added, the pictures in its text by id."""
    files = list(article.files.order_by(ArticleFile.id))
    return ([f for f in files if f.kind == ArticleFile.PHOTO],
            [f for f in files if f.kind == ArticleFile.VIDEO],
            {f.id: f for f in files if f.kind == ArticleFile.ILLUSTRATION})


# Search --------------------------------------------------------------------------------------


def _is_sqlite():
    return isinstance(database.obj, pw.SqliteDatabase)


def _index(article):
    """Keep SQLite's FTS5 table in step: published articles are in it, drafts are not.
    (PostgreSQL searches the article table itself through its GIN index.)"""
    if not _is_sqlite():
        return
    _unindex(article.id)
    if article.is_published:
        database.execute_sql(
            "INSERT INTO article_search (rowid, title, body_text) VALUES (?, ?, ?)",
            (article.id, article.title, article.body_text),
        )


def _unindex(article_id):
    if _is_sqlite():
        database.execute_sql("DELETE FROM article_search WHERE rowid = ?", (article_id,))


def _prefix(word):
    """SQLite has no Russian stemmer: a word's ending is cut and matched as a prefix, so
    «олимпиады» finds «олимпиада» and «олимпиаде»."""
    if len(word) >= 6:
        return word[:-2]
    if len(word) == 5:
        return word[:-1]
    return word


def search(school, query):
    """Published articles of ``school`` that match ``query``, newest first."""
    words = WORD.findall((query or "").lower())[:10]
    if not words:
        return Article.published_in(school).where(pw.SQL("0 = 1"))
    found = Article.published_in(school)
    if _is_sqlite():
        match = " ".join(f'"{_prefix(w)}"*' for w in words)
        ids = pw.SQL("(SELECT rowid FROM article_search WHERE article_search MATCH ?)", [match])
        return found.where(Article.id.in_(ids))
    document = pw.fn.to_tsvector(RUSSIAN, Article.title.concat(" ").concat(Article.body_text))
    return found.where(pw.Expression(document, "@@", pw.fn.plainto_tsquery(RUSSIAN, " ".join(words))))
