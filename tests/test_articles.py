"""Articles (SPEC §9): who reads and who writes, drafts seen only by their author and the
school's administrators, HTML that cannot run anything, pictures and video checked by
content, full-text search on SQLite (FTS5) and on PostgreSQL (to_tsvector), and an article's
poll: written in the editor, voted on by whoever may read the article."""
import datetime as dt
import io
import re
import threading
import zoneinfo
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict

from blueprints.articles import actions
from blueprints.articles.actions import ArticleError, Draft, PollDraft
from blueprints.articles.sanitize import sanitize
from conftest import ROLES, SIGN_IN, csrf_token, gymnasium
from db import database
from db.models import Article, ArticleFile, Poll, PollOption, PollVote, School, User, utcnow

ANYONE_IN_SCHOOL = ("student", "parent", "teacher", "other_class_teacher", "admin")
OUTSIDERS = ("other_school_admin", "operator")


def jpeg(size=(800, 400), colour=(30, 90, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 200
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm" + b"\x00" * 200


def upload(name, data):
    return FileStorage(io.BytesIO(data), filename=name)


def write(app, author_key, demo, title, body, publish, **files):
    """An article written through the actions layer, as the editor would."""
    with app.test_request_context(), database.connection_context():
        school = gymnasium()
        cover = actions.check_picture(files.pop("cover")) if "cover" in files else None
        draft = Draft(title, body, publish, cover=cover, **files)
        return actions.do_save(demo[author_key], school, draft)


@pytest.fixture
def articles(app, demo):
    """A published article and a draft by Яна (teacher of the gymnasium)."""
    published = write(app, "teacher", demo, "Олимпиада по математике",
                      "<p>Итоги школьного этапа олимпиады по математике.</p>", True,
                      cover=upload("cover.jpg", jpeg()))
    draft = write(app, "teacher", demo, "Выпускной альбом", "<p>Собираем фотографии.</p>", False)
    return {"published": published, "draft": draft, "school": published.school_id}


# The access matrix ---------------------------------------------------------------------------

READ = {role: 200 for role in ANYONE_IN_SCHOOL} | {role: 404 for role in OUTSIDERS}
DRAFT = {"teacher": 200, "admin": 200} | {
    role: 404 for role in ("student", "parent", "other_class_teacher", *OUTSIDERS)
}
WRITE = {"teacher": 200, "other_class_teacher": 200, "admin": 200, "student": 403, "parent": 403} | {
    role: 404 for role in OUTSIDERS
}
EDIT_PUBLISHED = {"teacher": 200, "admin": 200, "student": 403, "parent": 403,
                  "other_class_teacher": 403} | {role: 404 for role in OUTSIDERS}


def _urls(articles):
    school, published, draft = articles["school"], articles["published"].id, articles["draft"].id
    return {
        "list": (f"/schools/{school}/articles", READ),
        "search": (f"/schools/{school}/articles?q=олимпиада", READ),
        "read published": (f"/schools/{school}/articles/{published}", READ),
        "cover": (f"/schools/{school}/articles/{published}/cover", READ),
        "cover thumbnail": (f"/schools/{school}/articles/{published}/cover?size=small", READ),
        "cover as shown": (f"/schools/{school}/articles/{published}/cover?size=display", READ),
        "read draft": (f"/schools/{school}/articles/{draft}", DRAFT),
        "edit draft": (f"/schools/{school}/articles/{draft}/edit", DRAFT),
        "new": (f"/schools/{school}/articles/new", WRITE),
        "edit published": (f"/schools/{school}/articles/{published}/edit", EDIT_PUBLISHED),
    }


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(signed_in, articles, role):
    client = signed_in(role)
    for name, (url, expected) in _urls(articles).items():
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.location, name
        else:
            assert response.status_code == expected[role], (name, role, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_writes_are_refused_to_those_without_the_right(signed_in, articles, role):
    """Writing, unpublishing, deleting: the author and administrators only; a draft is 404 to others."""
    client = signed_in(role)
    school, published, draft = articles["school"], articles["published"].id, articles["draft"].id
    token_page = "/" if role == "anonymous" else "/auth/profile"
    token = csrf_token(client, token_page) if role != "anonymous" else ""
    if role in ("teacher", "admin"):
        return  # they may: covered by the tests below
    for url, expected in (
        (f"/schools/{school}/articles/{published}/unpublish", EDIT_PUBLISHED),
        (f"/schools/{school}/articles/{draft}/delete", DRAFT),
        (f"/schools/{school}/articles/{draft}/edit", DRAFT),
        (f"/schools/{school}/articles/new", WRITE),
    ):
        if role != "anonymous" and expected[role] == 200:
            continue  # a teacher of the school writes articles of their own
        response = client.post(url, data={"csrf_token": token, "title": "Взлом", "body": "<p>x</p>"})
        if role == "anonymous":
            assert response.status_code in (302, 400), url
        else:
            assert response.status_code == expected[role], (url, role)
    with database.connection_context():
        assert Article.get_by_id(published).status == Article.PUBLISHED
        assert Article.get_by_id(draft).title == "Выпускной альбом"
        assert not Article.select().where(Article.title == "Взлом").exists()


def test_the_list_shows_drafts_to_their_author_and_administrators_only(signed_in, articles):
    url = f"/schools/{articles['school']}/articles"
    for role, sees in (("teacher", True), ("admin", True), ("other_class_teacher", False), ("student", False)):
        page = signed_in(role).get(url).get_data(as_text=True)
        assert "Олимпиада по математике" in page
        assert ("Выпускной альбом" in page) is sees, role


# Writing through the editor's form ---------------------------------------------------------------


def test_a_teacher_saves_a_draft_then_publishes_it(signed_in, articles):
    client = signed_in("other_class_teacher")
    school = articles["school"]
    new = f"/schools/{school}/articles/new"
    token = csrf_token(client, new)
    response = client.post(new, data={
        "csrf_token": token, "title": "  Неделя   физики ", "action": "save",
        "body": "<h2>Опыты</h2><p>Покажем <strong>маятник</strong>.</p>",
        "cover": upload("обложка.jpg", jpeg()),
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    with database.connection_context():
        article = Article.get(Article.title == "Неделя физики")
        assert article.status == Article.DRAFT and article.published_at is None
        assert article.cover_path and article.cover_thumb_path
    assert "Неделя физики" not in signed_in("student").get(f"/schools/{school}/articles").get_data(as_text=True)

    edit = f"/schools/{school}/articles/{article.id}/edit"
    response = client.post(edit, data={
        "csrf_token": token, "title": "Неделя физики", "action": "publish",
        "body": "<h2>Опыты</h2><p>Покажем <strong>маятник</strong>.</p>",
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    page = signed_in("student").get(response.location).get_data(as_text=True)
    assert "<h2>Опыты</h2>" in page and "<strong>маятник</strong>" in page
    with database.connection_context():
        assert Article.get_by_id(article.id).published_at is not None


def test_bad_input_is_said_and_nothing_is_stored(signed_in, articles, app):
    client = signed_in("teacher")
    new = f"/schools/{articles['school']}/articles/new"
    token = csrf_token(client, new)
    before = _stored_files(app)
    for data, message in (
        ({"title": "", "body": "<p>Текст</p>"}, "Дайте статье название."),
        ({"title": "Пусто", "body": "<p> </p>", "action": "publish"}, "Статья пустая"),
        ({"title": "Видео", "body": "<p>x</p>", "video": upload("clip.mp4", jpeg()),
          "cover": upload("c.jpg", jpeg())}, "не видео"),
        ({"title": "Обложка", "body": "<p>x</p>", "cover": upload("c.jpg", b"%PDF-1.4 not a picture")},
         "не картинка"),
        ({"title": "Битая", "body": "<p>x</p>", "cover": upload("c.jpg", jpeg()[:300])}, "повреждена"),
    ):
        response = client.post(new, data={"csrf_token": token, **data}, content_type="multipart/form-data")
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    with database.connection_context():
        assert Article.select().count() == 2
    assert _stored_files(app) == before


def _stored_files(app):
    folder = Path(app.config["INSTANCE_PATH"]) / "uploads" / "articles"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_photos_and_video_are_attached_and_served_with_range(signed_in, articles):
    client = signed_in("teacher")
    school, article = articles["school"], articles["published"]
    edit = f"/schools/{school}/articles/{article.id}/edit"
    response = client.post(edit, data={
        "csrf_token": csrf_token(client, edit), "title": article.title, "body": article.body_html,
        "photos": [upload("1.jpg", jpeg()), upload("2.jpg", jpeg(colour=(200, 10, 10)))],
        "video": upload("урок.webm", WEBM),
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    page = signed_in("student").get(response.location).get_data(as_text=True)
    video = re.search(r'<video class="article-video" controls preload="none" src="([^"]+)"', page)
    assert video, page
    ranged = signed_in("student").get(video.group(1), headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == WEBM[:4]
    assert ranged.headers["Content-Type"] == "video/webm"
    thumbs = re.findall(r'src="(/articles/files/\d+/thumb)"', page)
    assert len(thumbs) == 2
    assert signed_in("student").get(thumbs[0]).headers["Content-Type"] == "image/webp"
    assert signed_in("other_school_admin").get(thumbs[0]).status_code == 404
    with database.connection_context():
        photo = ArticleFile.get((ArticleFile.article == article.id) & (ArticleFile.kind == "photo"))
    response = client.post(edit, data={
        "csrf_token": csrf_token(client, edit), "title": article.title, "body": article.body_html,
        "remove_file": str(photo.id),
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    assert client.get(f"/articles/files/{photo.id}").status_code == 404


def test_an_illustration_is_uploaded_then_joins_the_article(signed_in, articles):
    teacher = signed_in("teacher")
    school = articles["school"]
    new = f"/schools/{school}/articles/new"
    token = csrf_token(teacher, new)
    answer = teacher.post(f"/schools/{school}/articles/illustrations", data={"picture": upload("p.png", jpeg())},
                          headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    assert answer.status_code == 201
    url = answer.get_json()["url"]
    assert teacher.get(url).status_code == 200
    assert signed_in("admin").get(url).status_code == 404  # not in an article yet: the uploader's own

    refused = teacher.post(f"/schools/{school}/articles/illustrations", data={"picture": upload("x.mp4", MP4)},
                           headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "не картинка" in refused.get_json()["error"]
    assert signed_in("student").post(
        f"/schools/{school}/articles/illustrations", data={"picture": upload("p.jpg", jpeg())},
        headers={"X-CSRFToken": csrf_token(signed_in("student"), "/auth/profile")},
    ).status_code in (400, 403)

    response = teacher.post(new, data={
        "csrf_token": token, "title": "С картинкой", "action": "publish",
        "body": f'<p>Смотрите:</p><p><img src="{url}"></p>',
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    page = signed_in("student").get(response.location).get_data(as_text=True)
    shown = re.search(rf'<img src="({url}/display)" alt="" width="(\d+)" height="(\d+)" loading="lazy"', page)
    assert shown, page
    assert signed_in("student").get(url).status_code == 200
    assert signed_in("student").get(shown.group(1)).headers["Content-Type"] == "image/webp"
    assert signed_in("other_school_admin").get(shown.group(1)).status_code == 404

    # Another writer cannot show Яна's picture in their article before she uses it, nor after.
    other = signed_in("other_class_teacher")
    response = other.post(new, data={
        "csrf_token": csrf_token(other, new), "title": "Чужая картинка", "action": "publish",
        "body": f'<p>Моё</p><img src="{url}">',
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    assert url not in other.get(response.location).get_data(as_text=True)


def _picture_size(response):
    with Image.open(io.BytesIO(response.data)) as picture:
        return picture.format, picture.size


def test_readers_get_pictures_at_the_size_they_are_shown(signed_in, articles, app, demo):
    """A phone reading an article never downloads the camera's original: the cover and the
    pictures in the text come as WebP at most 720 px across, with their width and height."""
    camera = jpeg(size=(3000, 2000))
    with app.test_request_context(), database.connection_context():
        illustration = actions.do_upload_illustration(
            demo["teacher"], gymnasium(), actions.check_picture(upload("доска.jpg", camera))
        )
    article = write(app, "teacher", demo, "Экскурсия", f'<p><img src="/articles/files/{illustration.id}" alt="Доска"></p>',
                    True, cover=upload("обложка.jpg", camera))
    reader = signed_in("student")
    page = reader.get(f"/schools/{articles['school']}/articles/{article.id}").get_data(as_text=True)

    cover = re.search(r'<img class="article-cover" src="([^"]+)" alt="" width="(\d+)" height="(\d+)">', page)
    assert cover and "size=display" in cover.group(1), page
    assert (cover.group(2), cover.group(3)) == ("720", "480")
    assert _picture_size(reader.get(cover.group(1))) == ("WEBP", (720, 480))
    original = reader.get(f"/schools/{articles['school']}/articles/{article.id}/cover")
    assert _picture_size(original) == ("JPEG", (3000, 2000))

    pictured = f'<img src="/articles/files/{illustration.id}/display" alt="Доска" width="720" height="480" loading="lazy"'
    assert pictured in page
    shown = reader.get(f"/articles/files/{illustration.id}/display")
    assert _picture_size(shown) == ("WEBP", (720, 480))
    assert len(shown.data) < len(camera) / 10

    # Deleting the article takes the variants with it.
    with app.test_request_context(), database.connection_context():
        actions.do_delete(Article.get_by_id(article.id))
    assert not [name for name in _stored_files(app) if ".display." in name and name.split(".")[0] in (
        article.cover_path.split("/")[-1].split(".")[0], illustration.path.split("/")[-1].split(".")[0])]


def test_pictures_put_into_an_editor_never_saved_are_removed_after_a_day(app, demo, articles):
    with app.test_request_context(), database.connection_context():
        school = gymnasium()
        old = actions.do_upload_illustration(demo["teacher"], school, actions.check_picture(upload("a.jpg", jpeg())))
        used = actions.do_upload_illustration(demo["teacher"], school, actions.check_picture(upload("b.jpg", jpeg())))
        actions.do_save(demo["teacher"], school, Draft("С картинкой", f'<img src="/articles/files/{used.id}">', True))
        two_days_ago = old.created_at - dt.timedelta(days=2)
        ArticleFile.update(created_at=two_days_ago).where(ArticleFile.id.in_([old.id, used.id])).execute()
        old_files = [old.path, old.thumb_path, old.display_path]
        assert all(name.split("/")[-1] in _stored_files(app) for name in old_files)

        fresh = actions.do_upload_illustration(
            demo["teacher2"], school, actions.check_picture(upload("c.jpg", jpeg()))
        )
        remaining = {f.id for f in ArticleFile.select()}
    assert old.id not in remaining and used.id in remaining and fresh.id in remaining
    assert not any(name.split("/")[-1] in _stored_files(app) for name in old_files)


def test_delete_removes_the_article_and_its_files(signed_in, articles, app):
    client = signed_in("admin")
    school, article = articles["school"], articles["published"]
    assert _stored_files(app)
    page = f"/schools/{school}/articles/{article.id}"
    response = client.post(f"{page}/delete", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 303
    assert client.get(page).status_code == 404
    assert _stored_files(app) == []
    assert "Олимпиада" not in client.get(f"/schools/{school}/articles?q=олимпиада").get_data(as_text=True)


def test_unpublish_hides_the_article_from_readers(signed_in, articles):
    client = signed_in("teacher")
    school, article = articles["school"], articles["published"]
    page = f"/schools/{school}/articles/{article.id}"
    assert client.post(f"{page}/unpublish", data={"csrf_token": csrf_token(client, page)}).status_code == 303
    assert signed_in("student").get(page).status_code == 404
    assert signed_in("admin").get(page).status_code == 200
    with database.connection_context():
        assert list(actions.search(School.get_by_id(school), "олимпиада")) == []


# Sanitizing ------------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="/articles/files/1" onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">ссылка</a>',
    '<a href="JaVaScRiPt:alert(1)">ссылка</a>',
    '<a href="java&#x09;script:alert(1)">ссылка</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">ссылка</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">ссылка</a>',
    '<a href="vbscript:msgbox(1)">ссылка</a>',
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<body onload=alert(1)>",
    "<p onclick=alert(1) style=\"background:url(javascript:alert(1))\">текст</p>",
    "<div style=\"width: expression(alert(1))\">текст</div>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<style>@import 'http://evil.example/x.css';</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"http://evil.example/x.css\">",
    "<img src=\"http://evil.example/track.gif\">",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<img src=\"//evil.example/articles/files/1\">",
    "<img src=\"/articles/files/1?x=1\">",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<a href=\"#\" onmouseover=\"alert(1)\">x</a>",
    "<h2 id=\"x\" class=\"y\" data-x=\"1\">Заголовок</h2>",
    "<table><td background=\"javascript:alert(1)\">x</td></table>",
    "<template><script>alert(1)</script></template>",
    "<textarea><script>alert(1)</script></textarea>",
]
RUNS = re.compile(r"<script|<iframe|<object|<embed|<svg|<math|<style|<link|<meta|<base|<form|<input|"
                  r"\son\w+\s*=|javascript:|vbscript:|data:|expression\(|style=|evil\.example", re.IGNORECASE)


@pytest.mark.parametrize("payload", XSS)
def test_the_sanitizer_leaves_nothing_that_runs(payload):
    clean = sanitize(payload)
    assert not RUNS.search(clean), clean
    for src in re.findall(r'<img[^>]*\ssrc="([^"]*)"', clean):
        assert re.fullmatch(r"/articles/files/\d+", src), clean


def test_the_sanitizer_keeps_what_the_editor_makes():
    html = ('<h2>Итоги</h2><h3>Математика</h3><p><strong>жирный</strong> <em>курсив</em> <u>черта</u></p>'
            '<ol><li>первый</li></ol><ul><li>пункт</li></ul><blockquote>цитата</blockquote>'
            '<p><img src="/articles/files/7" alt="рисунок"></p>')
    assert sanitize(html) == html
    assert sanitize('<p><a href="https://mos.ru/">Портал</a></p>') == (
        '<p><a href="https://mos.ru/" rel="noopener noreferrer nofollow ugc">Портал</a></p>')
    assert sanitize("<p>Два&nbsp;слова</p>") == "<p>Два слова</p>"


def test_a_stored_article_with_scripts_renders_inert(signed_in, articles):
    client = signed_in("teacher")
    new = f"/schools/{articles['school']}/articles/new"
    response = client.post(new, data={
        "csrf_token": csrf_token(client, new), "title": "<script>alert('title')</script>", "action": "publish",
        "body": '<p>Текст<script>alert(1)</script><img src=x onerror="alert(2)">'
                '<a href="javascript:alert(3)">ссылка</a></p>',
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    page = signed_in("student").get(response.location).get_data(as_text=True)
    body = page[page.index('<div class="article-body">'):]
    assert "alert(" not in body.split("</div>")[0]
    assert "<script>alert('title')" not in page and "&lt;script&gt;" in page


# Search ------------------------------------------------------------------------------------------


def test_search_finds_published_articles_by_word_forms(app, demo, articles):
    write(app, "admin", demo, "Учебные сборы для десятиклассников", "<p>В мае юноши 10 классов едут на сборы.</p>", True)
    write(app, "teacher", demo, "Черновик про олимпиаду", "<p>Олимпиада ещё не прошла.</p>", False)
    with database.connection_context():
        school = gymnasium()
        titles = lambda q: [a.title for a in actions.search(school, q)]  # noqa: E731
        assert titles("олимпиады") == ["Олимпиада по математике"]  # another form; the draft not found
        assert titles("ОЛИМПИАДА математика") == ["Олимпиада по математике"]
        assert titles("сборы") == ["Учебные сборы для десятиклассников"]
        assert titles("школьного этапа") == ["Олимпиада по математике"]
        assert titles("хоккей") == []
        assert titles("\"*)(-- OR ") == [] and titles("") == []
        other = School.get(School.short_name != "Гимназия №1")
        assert list(actions.search(other, "олимпиада")) == []


def test_search_follows_edits(app, demo, articles):
    with app.test_request_context(), database.connection_context():
        article = Article.get_by_id(articles["published"].id)
        actions.do_save(demo["teacher"], gymnasium(), Draft("Турнир по шахматам", "<p>Шахматы в актовом зале.</p>", True), article)
        assert [a.title for a in actions.search(gymnasium(), "шахматы")] == ["Турнир по шахматам"]
        assert list(actions.search(gymnasium(), "олимпиада")) == []


def test_a_draft_must_have_a_title(app):
    with app.test_request_context(), pytest.raises(ArticleError):
        Draft("   ", "<p>x</p>", False)


def test_the_demo_articles_load_and_are_found(app, demo):
    from db.demo_articles import load_showcase_articles

    with app.app_context(), database.connection_context():
        load_showcase_articles(demo, gymnasium())
        assert Article.select().where(Article.status == Article.PUBLISHED).count() == 2
        assert Article.get(Article.status == Article.DRAFT).author_id == demo["teacher2"].id
        with app.test_request_context():
            assert [a.title for a in actions.search(gymnasium(), "графика функции")] == [
                "ОГЭ по математике: разбор задания 22"]


# The article's poll ------------------------------------------------------------------------------

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
QUESTION = "Куда поедем на экскурсию?"


def poll_fields(question=QUESTION, options=("В Кремль", "В Третьяковку"), retractable=True, **settings):
    """The editor's «Опрос» section as a browser sends it: ten answer fields, blank ones too."""
    fields = {"poll_question": question, "poll_option": list(options) + [""] * (10 - len(options))}
    if retractable:
        fields["poll_retractable"] = "1"
    return fields | {f"poll_{name}": value for name, value in settings.items()}


def with_poll(app, demo, publish=True, options=("В Кремль", "В Третьяковку", "В Коломенское"), **settings):
    """An article by Яна (teacher) with a poll, written through the actions layer."""
    poll = PollDraft(QUESTION, list(options), **settings)
    article = write(app, "teacher", demo, "Экскурсия 7А", "<p>Выбираем, куда поехать.</p>", publish, poll=poll)
    with database.connection_context():
        return article, Poll.get(Poll.article == article.id)


def option_ids(poll):
    with database.connection_context():
        return [o.id for o in PollOption.select().where(PollOption.poll == poll.id).order_by(PollOption.position)]


def votes(poll):
    with database.connection_context():
        return sorted((v.user_id, v.option_id) for v in PollVote.select().where(PollVote.poll == poll.id))


def vote(client, article, *options, retract=False, htmx=False, poll=None):
    page = f"/schools/{article.school_id}/articles/{article.id}"
    headers = {"HX-Request": "true", "HX-Target": f"poll-{poll.id}"} if htmx else {}
    return client.post(
        f"{page}/poll/{'retract' if retract else 'vote'}",
        data={"csrf_token": csrf_token(client, "/auth/profile"), "option": [str(o) for o in options]},
        headers=headers,
    )


def said(app, message):
    """A message of ours as the demo people (Russian) see it on a page."""
    with app.test_request_context():
        return str(escape(str(message)))


def test_a_poll_is_made_with_the_article_in_the_editor(signed_in, articles, demo):
    client = signed_in("other_class_teacher")
    new = f"/schools/{articles['school']}/articles/new"
    ends = (dt.datetime.now(MOSCOW) + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(new, data={
        "csrf_token": csrf_token(client, new), "title": "Экскурсия", "body": "<p>Голосуем.</p>",
        "action": "publish",
        **poll_fields("  Куда   поедем? ", ("", "  В Кремль ", "", "В Третьяковку"), retractable=False,
                      multiple="1", anonymous="1", ends_at=ends.strftime("%Y-%m-%dT%H:%M")),
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    with database.connection_context():
        article = Article.get(Article.title == "Экскурсия")
        poll = Poll.get(Poll.article == article.id)
        assert poll.message_id is None and poll.question == "Куда поедем?"
        assert (poll.anonymous, poll.multiple, poll.retractable) == (True, True, False)
        assert poll.ends_at == ends.astimezone(dt.timezone.utc).replace(tzinfo=None)
        assert [o.text for o in PollOption.select().where(PollOption.poll == poll).order_by(PollOption.position)] == [
            "В Кремль", "В Третьяковку"]
    page = signed_in("student").get(response.location).get_data(as_text=True)
    assert f'id="poll-{poll.id}"' in page and "Куда поедем?" in page and "В Третьяковку" in page
    assert f'action="/schools/{article.school_id}/articles/{article.id}/poll/vote"' in page
    editor = client.get(f"/schools/{article.school_id}/articles/{article.id}/edit").get_data(as_text=True)
    assert 'value="Куда поедем?"' in editor and 'value="В Кремль"' in editor
    assert f'value="{ends.strftime("%Y-%m-%dT%H:%M")}"' in editor


def test_bad_poll_input_is_said_and_nothing_is_stored(signed_in, articles, app):
    client = signed_in("teacher")
    new = f"/schools/{articles['school']}/articles/new"
    token = csrf_token(client, new)
    before = _stored_files(app)
    past = (dt.datetime.now(MOSCOW) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for fields, message in (
        (poll_fields(options=("Только один",)), "Укажите хотя бы два варианта ответа."),
        (poll_fields(question=" "), "Напишите тему опроса."),
        (poll_fields(options=("Да", "да")), "Варианты ответа не должны повторяться."),
        (poll_fields(question="В" * 301), "Тема опроса — не длиннее 300 символов."),
        (poll_fields(ends_at=past), "Время окончания голосования должно быть в будущем."),
        (poll_fields(ends_at="завтра"), "Укажите дату и время окончания голосования."),
    ):
        response = client.post(new, data={
            "csrf_token": token, "title": "С опросом", "body": "<p>x</p>", "action": "publish",
            "cover": upload("c.jpg", jpeg()), **fields,
        }, content_type="multipart/form-data")
        assert response.status_code == 422, fields
        page = response.get_data(as_text=True)
        assert message in page, fields
        assert 'name="poll_question"' in page  # the section comes back as it was sent
    with database.connection_context():
        assert Article.select().count() == 2 and Poll.select().count() == 0
    assert _stored_files(app) == before


def test_a_poll_is_edited_until_people_vote_then_only_deleted(signed_in, app, demo, articles):
    article, poll = with_poll(app, demo)
    client = signed_in("teacher")
    edit = f"/schools/{article.school_id}/articles/{article.id}/edit"
    token = csrf_token(client, edit)

    def save(body="<p>Выбираем.</p>", **fields):
        return client.post(edit, data={"csrf_token": token, "title": "Экскурсия 7А", "body": body, **fields},
                           content_type="multipart/form-data")

    assert save(**poll_fields(options=("В Кремль", "В Кусково"))).status_code == 303
    with database.connection_context():
        poll = Poll.get(Poll.article == article.id)
        assert [o.text for o in PollOption.select().where(PollOption.poll == poll)] == ["В Кремль", "В Кусково"]
    assert vote(signed_in("student"), article, option_ids(poll)[1]).status_code == 303

    editor = client.get(edit).get_data(as_text=True)
    assert said(app, actions.POLL_VOTED) in editor and 'name="poll_question"' not in editor
    assert 'name="poll_remove"' in editor
    answers = option_ids(poll)
    response = save("<p>Другой текст.</p>", **poll_fields(options=("В Кремль", "В Коломенское")))
    assert response.status_code == 422 and said(app, actions.POLL_VOTED) in response.get_data(as_text=True)
    with database.connection_context():
        assert Article.get_by_id(article.id).body_html == "<p>Выбираем.</p>"  # all or nothing
    assert save("<p>Другой текст.</p>").status_code == 303  # no poll fields, as for a voted poll: it stays
    assert len(votes(poll)) == 1 and option_ids(poll) == answers

    assert save(poll_remove="1").status_code == 303
    with database.connection_context():
        assert not Poll.select().where(Poll.article == article.id).exists()
        assert not PollVote.select().where(PollVote.poll == poll.id).exists()
        assert not PollOption.select().where(PollOption.poll == poll.id).exists()
    assert 'name="poll_question"' in client.get(edit).get_data(as_text=True)
    assert save(**poll_fields("Новый вопрос", ("А", "Б"))).status_code == 303
    with database.connection_context():
        assert Poll.get(Poll.article == article.id).question == "Новый вопрос"
    assert save(**poll_fields("", ())).status_code == 303  # emptied before anyone voted: gone
    with database.connection_context():
        assert not Poll.select().where(Poll.article == article.id).exists()


def test_readers_vote_change_and_withdraw_by_the_polls_rules(signed_in, app, demo, articles):
    student = signed_in("student")
    me = demo["student"].id
    article, poll = with_poll(app, demo)
    first, second, third = option_ids(poll)
    response = vote(student, article, first)
    assert response.status_code == 303 and response.location.endswith(f"/articles/{article.id}#poll-{poll.id}")
    assert votes(poll) == [(me, first)]
    answer = vote(student, article, second, htmx=True, poll=poll)
    assert answer.status_code == 200 and answer.get_data(as_text=True).lstrip().startswith(f'<section id="poll-{poll.id}"')
    assert "Vary" in answer.headers and re.search(rf'value="{second}" checked', answer.get_data(as_text=True))
    assert votes(poll) == [(me, second)]
    refused = vote(student, article, first, second, htmx=True, poll=poll)
    assert refused.status_code == 400 and "Выберите один вариант ответа." in refused.get_data(as_text=True)
    assert vote(student, article, option_ids(with_poll(app, demo)[1])[0], htmx=True, poll=poll).status_code == 400
    assert vote(student, article, retract=True).status_code == 303 and votes(poll) == []

    fixed_article, fixed = with_poll(app, demo, retractable=False)
    one, two, _three = option_ids(fixed)
    assert vote(student, fixed_article, one).status_code == 303
    refused = vote(student, fixed_article, two, htmx=True, poll=fixed).get_data(as_text=True)
    assert "Вы уже проголосовали, а в этом опросе голос изменить нельзя." in refused
    assert "Ваш голос учтён." in refused and 'name="option"' not in refused
    refused = vote(student, fixed_article, retract=True, htmx=True, poll=fixed).get_data(as_text=True)
    assert "В этом опросе голос отменить нельзя." in refused and votes(fixed) == [(me, one)]

    several_article, several = with_poll(app, demo, multiple=True)
    one, two, three = option_ids(several)
    assert vote(student, several_article, one, three).status_code == 303
    assert votes(several) == [(me, one), (me, three)]

    with database.connection_context():
        Poll.update(ends_at=utcnow() - dt.timedelta(minutes=1)).where(Poll.id == several.id).execute()
    closed = vote(student, several_article, two, htmx=True, poll=several).get_data(as_text=True)
    assert "Голосование в этом опросе завершено." in closed and votes(several) == [(me, one), (me, three)]
    page = student.get(f"/schools/{several_article.school_id}/articles/{several_article.id}").get_data(as_text=True)
    assert "Голосование завершено" in page and 'name="option"' not in page


VOTE = READ
VOTE_IN_DRAFT = DRAFT


@pytest.mark.parametrize("role", ROLES)
def test_whoever_may_read_the_article_votes_and_nobody_else(signed_in, app, demo, articles, role):
    published, published_poll = with_poll(app, demo)
    draft, draft_poll = with_poll(app, demo, publish=False)
    client = signed_in(role)
    for article, poll, rule in ((published, published_poll, VOTE), (draft, draft_poll, VOTE_IN_DRAFT)):
        option = option_ids(poll)[0]
        url = f"/schools/{article.school_id}/articles/{article.id}/poll"
        for action in ("vote", "retract"):
            if role == "anonymous":
                response = client.post(f"{url}/{action}", data={"option": option})
                assert response.status_code in (302, 400)
                continue
            response = client.post(f"{url}/{action}", data={
                "csrf_token": csrf_token(client, "/auth/profile"), "option": option})
            expected = 303 if rule[role] == 200 else rule[role]
            assert response.status_code == expected, (role, action, article.title, response.status_code)
            if action == "vote":
                with database.connection_context():
                    voter = User.by_identifier(SIGN_IN[role]).id
                voted = [] if expected != 303 else [(voter, option)]
                assert votes(poll) == voted, (role, article.status)
        assert votes(poll) == []
    if role not in ("anonymous", "other_school_admin", "operator"):
        no_poll = f"/schools/{articles['school']}/articles/{articles['published'].id}/poll/vote"
        token = csrf_token(client, "/auth/profile")
        assert client.post(no_poll, data={"csrf_token": token, "option": "1"}).status_code == 404


def test_names_never_show_in_an_anonymous_poll(signed_in, app, demo, articles):
    article, poll = with_poll(app, demo, anonymous=True)
    first, second, _third = option_ids(poll)
    own = vote(signed_in("student"), article, first, htmx=True, poll=poll).get_data(as_text=True)
    vote(signed_in("parent"), article, second)
    page = signed_in("teacher").get(f"/schools/{article.school_id}/articles/{article.id}").get_data(as_text=True)
    section = page[page.index(f'id="poll-{poll.id}"'):page.index("</section>", page.index(f'id="poll-{poll.id}"'))]
    assert "Проголосовали 2 человека" in section and "Анонимный" in section
    for html in (own, section):
        for name in ("Мария", "Ольга", "Иванова"):
            assert name not in html

    open_article, open_poll = with_poll(app, demo)
    vote(signed_in("student"), open_article, option_ids(open_poll)[0])
    page = signed_in("teacher").get(f"/schools/{open_article.school_id}/articles/{open_article.id}").get_data(as_text=True)
    assert "Мария И." in page


def test_simultaneous_votes_leave_one_vote_in_a_single_choice_poll(app, demo, articles):
    for retractable in (True, False):
        _article, poll = with_poll(app, demo, retractable=retractable)
        options = option_ids(poll)
        barrier = threading.Barrier(len(options))
        outcomes = []

        def cast(option_id):
            with app.test_request_context(), database.connection_context():
                fresh = Poll.get_by_id(poll.id)
                barrier.wait()
                try:
                    actions.do_vote(User.get_by_id(demo["student"].id), fresh, [option_id])
                    outcomes.append("ok")
                except ArticleError:
                    outcomes.append("refused")

        threads = [threading.Thread(target=cast, args=(o,)) for o in options]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(votes(poll)) == 1, retractable
        assert outcomes.count("ok") == (len(options) if retractable else 1), (retractable, outcomes)


def test_deleting_the_article_deletes_its_poll_and_votes(signed_in, app, demo, articles):
    article, poll = with_poll(app, demo)
    vote(signed_in("student"), article, option_ids(poll)[0])
    client = signed_in("teacher")
    page = f"/schools/{article.school_id}/articles/{article.id}"
    assert client.post(f"{page}/delete", data={"csrf_token": csrf_token(client, page)}).status_code == 303
    with database.connection_context():
        assert not Poll.select().where(Poll.id == poll.id).exists()
        assert not PollOption.select().where(PollOption.poll == poll.id).exists()
        assert not PollVote.select().where(PollVote.poll == poll.id).exists()
