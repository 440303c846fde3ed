"""Every list that grows without bound is paged by keyset, with «Показать ещё» (issue 7).

For each list: more rows than a page are made directly in the database; the first page shows
a page of rows and the link; following the link (plainly, and as htmx does) gives the next
rows with no repeats and no gaps to the end; a malformed or foreign cursor gives 400, never
500. Access to each list is tested in its own area's module and still holds.
"""
import datetime as dt
import html
import re


from db import database
from tests.conftest import gymnasium

BASE = dt.datetime(2026, 1, 1, 8, 0, 0)


def at(i):
    """Distinct times in the order rows are made, so the expected order does not hang on ties."""
    return BASE + dt.timedelta(minutes=i)


def people(n, role=None, school=None, school_class=None):
    """``n`` new people «Яшин Тест000…», made directly in the database (optionally members)."""
    from db.models import Membership, User

    made = []
    for i in range(n):
        user = User.create(
            email=f"page-{i:03d}@example.org", password_hash="-", first_name=f"Тест{i:03d}", last_name="Яшин"
        )
        if role:
            Membership.create(user=user, school=school, role=role, school_class=school_class)
        made.append(user)
    return made

MORE = r'id="{list_id}-more"[^>]*>\s*(?:<td[^>]*>)?\s*<a href="([^"]+)"'


def page_rows(body, marker):
    """The markers of a page in order, each once (a row may name its marker twice)."""
    return list(dict.fromkeys(re.findall(marker, body)))


def walk(client, url, list_id, marker, size, row=None):
    """Follow «Показать ещё» from ``url`` to the end; the markers seen, page by page.

    ``row`` counts a page's rows when the list holds rows (the demo's) without a marker."""
    pages = []
    first = client.get(url)
    assert first.status_code == 200
    assert "HX-Request" in first.headers.get("Vary", "")
    body = first.get_data(as_text=True)
    while True:
        pages.append(page_rows(body, marker))
        link = re.search(MORE.format(list_id=list_id), body)
        if not link:
            break
        assert len(re.findall(row or marker, body)) == size, "a page followed by another is full"
        next_url = html.unescape(link.group(1))
        plain = client.get(next_url)
        assert plain.status_code == 200
        partial = client.get(next_url, headers={"HX-Request": "true", "HX-Target": f"{list_id}-more"})
        assert partial.status_code == 200
        body = plain.get_data(as_text=True)
        fragment = partial.get_data(as_text=True)
        assert "<html" not in fragment and "<html" in body
        assert page_rows(fragment, marker) == page_rows(body, marker)
        assert "Vary" in partial.headers and "HX-Request" in partial.headers["Vary"]
    return pages


def assert_walks(client, url, list_id, marker, size, expected, row=None):
    pages = walk(client, url, list_id, marker, size, row)
    seen = [found for page in pages for found in page]
    assert len(pages) > 2, "the test has more rows than two pages"
    assert len(seen) == len(set(seen)), "no row twice"
    assert seen == expected, "every row once, in the list's order"


def assert_bad_cursors(client, url):
    join = "&" if "?" in url else "?"
    for bad in ("abc", "-1", "1.5", "9" * 40, "99999999"):
        response = client.get(f"{url}{join}after={bad}")
        assert response.status_code == 400, bad


# Notifications ---------------------------------------------------------------------------


def test_notifications_are_paged(app, demo, signed_in):
    from blueprints.notifications.routes import PAGE_SIZE
    from db.models import Notification

    total = PAGE_SIZE * 2 + 7
    with database.connection_context():
        Notification.delete().where(Notification.user == demo["student"]).execute()
        for i in range(total):
            Notification.create(user=demo["student"], kind="test", text=f"N-{i:04d}")
    client = signed_in("student")
    expected = [f"N-{i:04d}" for i in reversed(range(total))]
    assert_walks(client, "/notifications", "notices", r"N-\d{4}", PAGE_SIZE, expected)
    assert_bad_cursors(client, "/notifications")


def test_someone_elses_notification_is_no_cursor(app, demo, signed_in):
    from db.models import Notification

    with database.connection_context():
        theirs = Notification.create(user=demo["teacher"], kind="test", text="theirs")
    response = signed_in("student").get(f"/notifications?after={theirs.id}")
    assert response.status_code == 400


# A school's participants ------------------------------------------------------------------


def test_participants_are_paged_by_name(app, demo, signed_in):
    from blueprints.schools.routes import PARTICIPANTS_PAGE_SIZE as size
    from db.models import Membership

    with database.connection_context():
        school = gymnasium()
        people(size * 2 + 5, Membership.STUDENT, school)
    client = signed_in("teacher")
    url = f"/schools/{school.id}/participants"
    expected = [f"Тест{i:03d}" for i in range(size * 2 + 5)]
    assert_walks(client, url, "participants", r"Тест\d{3}", size, expected, row=r"<li>\s*<div><strong>")
    assert_bad_cursors(client, url)
    assert signed_in("other_school_admin").get(url).status_code in (403, 404)


def test_a_cursor_of_another_school_is_refused(app, demo, signed_in):
    from db.models import Membership, School

    with database.connection_context():
        school = gymnasium()
        other = Membership.select().where(Membership.school != school).first()
    response = signed_in("teacher").get(f"/schools/{school.id}/participants?after={other.id}")
    assert response.status_code == 400


# A school's articles ----------------------------------------------------------------------


def test_articles_are_paged(app, demo, signed_in):
    from blueprints.articles.routes import PAGE_SIZE
    from db.models import Article

    total = PAGE_SIZE * 2 + 3
    with database.connection_context():
        school = gymnasium()
        for i in range(total):
            Article.create(
                school=school, author=demo["teacher"], title=f"Статья-{i:03d}", body_text="текст",
                status=Article.PUBLISHED, published_at=at(i),
            )
    client = signed_in("student")
    url = f"/schools/{school.id}/articles"
    expected = [f"Статья-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, url, "articles", r"Статья-\d{3}", PAGE_SIZE, expected, row=r'class="article-item-title"')
    assert_bad_cursors(client, url)


# A school's appeals -----------------------------------------------------------------------


def test_appeals_are_paged(app, demo, signed_in):
    from blueprints.appeals.actions import PAGE_SIZE
    from db.models import Appeal

    total = PAGE_SIZE * 2 + 1
    with database.connection_context():
        school = gymnasium()
        for i in range(total):
            Appeal.create(school=school, author=demo["student"], subject=f"Обращение-{i:03d}", updated_at=at(i))
    expected = [f"Обращение-{i:03d}" for i in reversed(range(total))]
    url = f"/schools/{school.id}/appeals"
    for role in ("admin", "student"):
        client = signed_in(role)
        assert_walks(client, url, "appeals", r"Обращение-\d{3}", PAGE_SIZE, expected, row=r'class="help-row"')
        assert_bad_cursors(client, url)
    assert "Обращение-" not in signed_in("teacher").get(url).get_data(as_text=True)


# A documents folder -----------------------------------------------------------------------


def test_documents_of_a_folder_are_paged(app, demo, signed_in):
    from blueprints.documents.actions import DOCUMENTS_PAGE_SIZE as size
    from db.models import Document, Folder

    total = size * 2 + 4
    with database.connection_context():
        school = gymnasium()
        folder = Folder.create(school=school, name="Приказы")
        for i in reversed(range(total)):
            Document.create(
                school=school, folder=folder, name=f"Док-{i:03d}.pdf", content_type="application/pdf",
                size=1, path="none", uploaded_by=demo["admin"],
            )
    client = signed_in("admin")
    url = f"/schools/{school.id}/documents/folders/{folder.id}"
    expected = [f"Док-{i:03d}" for i in range(total)]
    assert_walks(client, url, "doc-list", r"Док-\d{3}", size, expected, row=r'class="doc-item"')
    assert_bad_cursors(client, url)


# Operator lists ---------------------------------------------------------------------------


def test_decided_school_applications_are_paged(app, demo, signed_in):
    from blueprints.operator.actions import PAGE_SIZE
    from db.models import SchoolApplication

    total = PAGE_SIZE * 2 + 2
    with database.connection_context():
        for i in range(total):
            SchoolApplication.create(
                full_name=f"Школа-{i:03d}", short_name=f"Школа-{i:03d}", region="Область", city="Город",
                admin_name="Директор", admin_phone="+79000000999", admin_email="d@example.org",
                status=SchoolApplication.REJECTED, decided_at=at(i),
            )
    client = signed_in("operator")
    expected = [f"Школа-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, "/operator/applications", "decided", r"Школа-\d{3}", PAGE_SIZE, expected)
    assert_bad_cursors(client, "/operator/applications")
    assert signed_in("admin").get("/operator/applications?after=1").status_code == 404


def test_answered_support_questions_and_feedback_are_paged(app, demo, signed_in):
    from blueprints.help.actions import PAGE_SIZE
    from db.models import Feedback, SupportQuestion

    total = PAGE_SIZE * 2 + 6
    with database.connection_context():
        for i in range(total):
            SupportQuestion.create(
                user=demo["student"], subject=f"Вопрос-{i:03d}", status=SupportQuestion.ANSWERED, updated_at=at(i)
            )
            Feedback.create(user=demo["student"], text=f"Отзыв-{i:03d}", created_at=at(i))
    client = signed_in("operator")
    questions = [f"Вопрос-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, "/operator/questions", "answered", r"Вопрос-\d{3}", PAGE_SIZE, questions)
    feedback = [f"Отзыв-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, "/operator/feedback", "feedback", r"Отзыв-\d{3}", PAGE_SIZE, feedback)
    for url in ("/operator/questions", "/operator/feedback"):
        assert_bad_cursors(client, url)
        assert signed_in("admin").get(url).status_code == 404


# «Мои вопросы» in help --------------------------------------------------------------------


def test_my_questions_are_paged(app, demo, signed_in):
    from blueprints.help.actions import PAGE_SIZE
    from db.models import SupportQuestion

    total = PAGE_SIZE * 2 + 1
    with database.connection_context():
        for i in range(total):
            SupportQuestion.create(user=demo["student"], subject=f"Вопрос-{i:03d}", updated_at=at(i))
        SupportQuestion.create(user=demo["teacher"], subject="Вопрос-учителя", updated_at=at(total))
    client = signed_in("student")
    expected = [f"Вопрос-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, "/help/questions", "questions", r"Вопрос-\d{3}", PAGE_SIZE, expected)
    assert_bad_cursors(client, "/help/questions")
    assert "Вопрос-учителя" not in client.get("/help/questions").get_data(as_text=True)


# Join requests ----------------------------------------------------------------------------


def test_decided_join_requests_are_paged(app, demo, signed_in):
    from blueprints.schools.requests_actions import DECIDED_PAGE_SIZE as size
    from db.models import JoinRequest, Membership, SchoolClass, User

    total = size * 2 + 3
    with database.connection_context():
        school = gymnasium()
        seventh = SchoolClass.get((SchoolClass.school == school) & (SchoolClass.name == "7А"))
        for i, person in enumerate(people(total)):
            JoinRequest.create(
                user=person, school=school, role=Membership.STUDENT, school_class=seventh,
                status=JoinRequest.ACCEPTED, created_at=at(i), decided_at=at(i),
            )
        teacher_wants_in = User.create(email="wants-in@example.org", password_hash="-", first_name="Учитель")
        JoinRequest.create(
            user=teacher_wants_in, school=school, role=Membership.TEACHER,
            status=JoinRequest.REJECTED, created_at=at(total), decided_at=at(total),
        )
    url = f"/schools/{school.id}/requests"
    expected = [f"Тест{i:03d}" for i in reversed(range(total))]
    admin = signed_in("admin")
    assert_walks(admin, url, "decided", r"Тест\d{3}", size, expected, row=r"<li>\s*<span>")
    assert "Учитель" in admin.get(url).get_data(as_text=True)
    assert_bad_cursors(admin, url)
    # The class teacher of 7А sees the requests to 7А, not a teacher's request.
    teacher = signed_in("teacher")
    assert_walks(teacher, url, "decided", r"Тест\d{3}", size, expected, row=r"<li>\s*<span>")
    assert "Учитель" not in teacher.get(url).get_data(as_text=True)
    assert signed_in("student").get(url).status_code in (403, 404)


# Chats ------------------------------------------------------------------------------------


def test_public_chats_are_paged(app, demo, signed_in):
    from blueprints.chats.actions import CHATS_PAGE_SIZE as size
    from db.models import Chat

    total = size * 2 + 2
    with database.connection_context():
        school = gymnasium()
        for i in range(total):
            Chat.create(school=school, kind=Chat.GROUP, name=f"Чат-{i:03d}", is_public=True, last_message_id=i)
    client = signed_in("student")
    url = f"/schools/{school.id}/chats"
    expected = [f"Чат-{i:03d}" for i in reversed(range(total))]
    assert_walks(client, url, "public-chats", r"Чат-\d{3}", size, expected, row=r'<li class="row">')
    assert_bad_cursors(client, url)


def test_the_messages_page_is_paged(app, demo, signed_in):
    from blueprints.chats.actions import CHATS_PAGE_SIZE as size
    from db.models import Chat, ChatMember

    total = size * 2 + 7
    with database.connection_context():
        school = gymnasium()
        for i in range(total):
            chat = Chat.create(school=school, kind=Chat.GROUP, name=f"Чат-{i:03d}", last_message_id=0)
            ChatMember.create(chat=chat, user=demo["student"])
        Chat.create(school=school, kind=Chat.GROUP, name="Чат-чужой", last_message_id=0)
    client = signed_in("student")
    expected = [f"Чат-{i:03d}" for i in reversed(range(total))]
    row = r'<li>\s*<a href="/chats/\d+"'
    assert_walks(client, "/chats?kind=group", "chats", r"Чат-\d{3}", size, expected, row=row)
    pages = walk(client, "/chats", "chats", r"Чат-\d{3}", size, row=row)
    assert [found for page in pages for found in page] == expected
    assert_bad_cursors(client, "/chats")
    assert "Чат-чужой" not in client.get("/chats").get_data(as_text=True)
