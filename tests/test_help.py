"""The help centre: answers and search, support questions with screenshots (from an account
and from a guest by email), the operator's answers, privacy and feedback (SPEC §11)."""
import io
import re

import pytest
from PIL import Image

from blueprints.help import content
from conftest import ROLES, post_form
from db import database
from db.models import (
    Feedback,
    Notification,
    SupportMessage,
    SupportQuestion,
    SupportScreenshot,
)

GUEST = "guest.parent@example.org"


def png(size=(300, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def ask(client, subject="Не открывается чат", files=(), **extra):
    data = {
        "subject": subject,
        "text": "Нажимаю на чат класса — страница пустая.",
        "steps": "1. Открыла «Сообщения». 2. Нажала «7А».",
        "section": "messages",
        "screenshots": [(io.BytesIO(data), name) for name, data in files],
        **extra,
    }
    return post_form(client, "/help/ask", data, content_type="multipart/form-data")


def question_of(subject):
    with database.connection_context():
        return SupportQuestion.get(SupportQuestion.subject == subject)


# Answers and search --------------------------------------------------------------------------


def test_every_answer_exists_in_russian_and_english():
    def slugs(locale):
        return [(s.slug, [a.slug for a in s.answers]) for s in content.load(locale)]

    assert slugs("ru") == slugs("en")
    assert len(content.load("ru")) >= 5


def test_help_shows_the_seeds_faq_by_section_in_russian_and_english(client):
    page = client.get("/help").get_data(as_text=True)
    assert "Регистрация и вход" in page and "Как зарегистрироваться родителю?" in page
    section = client.get("/help/parents").get_data(as_text=True)
    assert "Подтвердить регистрацию ребёнка" in section
    assert "Задать свой вопрос" in section and "/help/ask?section=parents" in section
    client.set_cookie("parta_lang", "en")
    assert "How does a parent sign up?" in client.get("/help").get_data(as_text=True)


def test_an_unknown_section_is_404(client):
    assert client.get("/help/nothing-here").status_code == 404


def test_search_matches_words_in_any_case_and_yo_as_e(client):
    found = client.get("/help?q=ПАРОЛЬ").get_data(as_text=True)
    assert "Я забыл пароль" in found
    # «всё» and «все» are one word to a person typing
    assert [a.slug for a in content.load("ru")[0].answers]  # the file loads
    with client.application.test_request_context():
        assert any(a.slug == "parent-link-error" for a in content.search("ИНКОГНИТО ссылка"))
        assert content.search("еще") == content.search("ещё")
    empty = client.get("/help?q=квазар").get_data(as_text=True)
    assert "Ничего не найдено" in empty


def test_answers_are_escaped_html_with_lists():
    html = content.render_body("Текст <b>\n\n- один\n- два\n\n1. раз\n2. два")
    assert html == "<p>Текст &lt;b&gt;</p><ul><li>один</li><li>два</li></ul><ol><li>раз</li><li>два</li></ol>"


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/help", "/help/accounts", "/help/ask", "/privacy", "/contacts"])
def test_help_privacy_and_contacts_are_open_to_everyone(signed_in, role, url):
    response = signed_in(role).get(url)
    assert response.status_code == 200
    assert 'href="/privacy"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/help/questions", "/feedback"])
def test_my_questions_and_feedback_need_an_account(signed_in, role, url):
    assert signed_in(role).get(url).status_code == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ROLES)
def test_operator_pages_are_the_operators_only(signed_in, role):
    client = signed_in(role)
    for url in ("/operator/questions", "/operator/feedback"):
        assert client.get(url).status_code == (200 if role == "operator" else 404)


@pytest.fixture
def students_question(signed_in):
    student = signed_in("student")
    response = ask(student, "Вопрос Маши", files=[("экран.png", png())])
    assert response.status_code == 303
    question = question_of("Вопрос Маши")
    with database.connection_context():
        shot = SupportScreenshot.select().join(SupportMessage).where(
            SupportMessage.question == question
        ).get()
    return question, shot


QUESTION_PAGE = {"anonymous": 302, "student": 200}
SCREENSHOT = {"student": 200, "operator": 200}


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_a_question_and_its_screenshot(signed_in, students_question, role):
    question, shot = students_question
    client = signed_in(role)
    assert client.get(f"/help/questions/{question.id}").status_code == QUESTION_PAGE.get(role, 404)
    for url in (f"/help/screenshots/{shot.id}", f"/help/screenshots/{shot.id}/thumb"):
        assert client.get(url).status_code == SCREENSHOT.get(role, 404)
    expected = 200 if role == "operator" else 404
    assert client.get(f"/operator/questions/{question.id}").status_code == expected


@pytest.mark.parametrize("role", ["parent", "teacher", "admin"])
def test_others_cannot_reply_to_a_question(signed_in, students_question, role):
    question, _ = students_question
    response = post_form(
        signed_in(role), f"/help/questions/{question.id}", {"text": "чужой ответ"}, page="/help/ask"
    )
    assert response.status_code == 404
    with database.connection_context():
        assert SupportMessage.select().where(SupportMessage.question == question).count() == 1


# Asking and answering -------------------------------------------------------------------------


def test_a_question_with_screenshots_is_answered_and_the_asker_notified(signed_in, demo, students_question):
    question, shot = students_question
    assert question.user_id == demo["student"].id and question.section == "messages"
    assert question.status == SupportQuestion.WAITING and "«7А»" in question.steps
    student = signed_in("student")
    thumb = student.get(f"/help/screenshots/{shot.id}/thumb")
    assert thumb.mimetype == "image/webp" and thumb.headers["X-Content-Type-Options"] == "nosniff"
    original = student.get(f"/help/screenshots/{shot.id}")
    assert original.mimetype == "image/png" and original.data == png()
    assert "Вопрос Маши" in student.get("/help/questions").get_data(as_text=True)

    operator = signed_in("operator")
    listing = operator.get("/operator/questions").get_data(as_text=True)
    assert "Вопрос Маши" in listing
    page = operator.get(f"/operator/questions/{question.id}").get_data(as_text=True)
    assert f"/help/screenshots/{shot.id}/thumb" in page and "Нажала «7А»" in page
    answered = post_form(
        operator, f"/operator/questions/{question.id}", {"text": "Обновите страницу, пожалуйста."},
        content_type="multipart/form-data",
    )
    assert answered.status_code == 303
    with database.connection_context():
        assert SupportQuestion.get_by_id(question.id).status == SupportQuestion.ANSWERED
        notice = Notification.get(Notification.user == demo["student"].id, Notification.kind == "support_answer")
    assert "Вопрос Маши" in notice.text and notice.link == f"/help/questions/{question.id}"
    thread = student.get(f"/help/questions/{question.id}").get_data(as_text=True)
    assert "Обновите страницу, пожалуйста." in thread and "Поддержка" in thread

    reply = post_form(student, f"/help/questions/{question.id}", {"text": "Спасибо, помогло!"},
                      content_type="multipart/form-data")
    assert reply.status_code == 303
    with database.connection_context():
        assert SupportQuestion.get_by_id(question.id).status == SupportQuestion.WAITING


def test_only_pictures_and_at_most_five_go_with_a_question(signed_in):
    student = signed_in("student")
    pdf = ask(student, "С PDF", files=[("отчёт.pdf", b"%PDF-1.4\n%%EOF\n")])
    assert pdf.status_code == 400
    assert "«отчёт.pdf» — не картинка" in pdf.get_data(as_text=True)
    six = ask(student, "Шесть", files=[(f"{n}.png", png()) for n in range(6)])
    assert six.status_code == 400 and "не больше 5" in six.get_data(as_text=True)
    broken = ask(student, "Битая", files=[("x.png", b"\x89PNG\r\n\x1a\nnot really")])
    assert broken.status_code == 400
    with database.connection_context():
        assert not SupportQuestion.select().where(SupportQuestion.subject.in_(["С PDF", "Шесть", "Битая"])).exists()
        assert SupportScreenshot.select().count() == 0


def test_a_question_needs_a_subject_and_text(signed_in):
    response = ask(signed_in("student"), subject="   ")
    assert response.status_code == 400
    assert "Кратко напишите, о чём вопрос." in response.get_data(as_text=True)
    with database.connection_context():
        assert SupportQuestion.select().count() == 0


def _guest_link(smtp_server):
    mail = smtp_server.to(GUEST)[-1]
    body = mail.get_payload(decode=True).decode()
    return re.search(r"http://localhost(/help/q/[\w-]+)", body).group(1)


def test_a_guest_asks_by_email_follows_the_secret_link_and_gets_the_answer(app, demo, signed_in, smtp_server):
    guest = app.test_client()
    no_email = ask(guest, "Без почты")
    assert no_email.status_code == 400
    response = ask(guest, "Вопрос гостя", files=[("screen.png", png())], email=GUEST.upper())
    assert response.status_code == 303
    link = _guest_link(smtp_server)
    assert response.headers["Location"] == link
    question = question_of("Вопрос гостя")
    assert question.user_id is None and question.email == GUEST
    assert question.token_hash and link.rsplit("/", 1)[1] not in (question.token_hash, question.token_nonce)
    page = guest.get(link).get_data(as_text=True)
    assert "Вопрос гостя" in page
    with database.connection_context():
        shot = SupportScreenshot.select().join(SupportMessage).where(SupportMessage.question == question).get()
    assert guest.get(f"{link}/screenshots/{shot.id}/thumb").status_code == 200
    assert guest.get(f"/help/screenshots/{shot.id}").status_code == 404
    assert guest.get(f"/help/q/wrong-token/screenshots/{shot.id}").status_code == 404
    assert guest.get("/help/q/wrong-token").status_code == 404

    operator = signed_in("operator")
    post_form(operator, f"/operator/questions/{question.id}", {"text": "Ответ для гостя."},
              content_type="multipart/form-data")
    answer_mail = smtp_server.to(GUEST)[-1]
    assert "Вопрос гостя" in answer_mail.get_payload(decode=True).decode()
    assert "Ответ для гостя." in guest.get(link).get_data(as_text=True)
    reply = post_form(guest, link, {"text": "Спасибо!"}, content_type="multipart/form-data")
    assert reply.status_code == 303 and reply.headers["Location"] == link


def test_the_guest_form_is_rate_limited(app):
    guest = app.test_client()
    statuses = [ask(guest, f"Спам {n}", email=GUEST).status_code for n in range(11)]
    assert statuses[:10] == [303] * 10 and statuses[10] == 429


# Privacy and feedback -------------------------------------------------------------------------


def test_the_privacy_page_says_where_data_lives(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Конфиденциальность" in page and "сервер" in page and "argon2id" in page


def test_feedback_reaches_the_operator(signed_in, demo):
    teacher = signed_in("teacher")
    empty = post_form(teacher, "/feedback", {"text": "  "})
    assert empty.status_code == 400
    sent = post_form(teacher, "/feedback", {"text": "Хочется тёмную тему."})
    assert sent.status_code == 303
    with database.connection_context():
        assert Feedback.get().user_id == demo["teacher"].id
    assert "Хочется тёмную тему." in signed_in("operator").get("/operator/feedback").get_data(as_text=True)


def test_the_demo_questions_appeals_and_feedback_load(app, demo):
    from conftest import gymnasium
    from db.demo_help import load_showcase_help
    from db.models import Appeal

    with app.test_request_context(), database.connection_context():
        load_showcase_help(demo, gymnasium())
        assert SupportQuestion.select().count() == 3
        assert SupportScreenshot.select().count() == 1
        assert Appeal.select().count() == 2 and Feedback.select().count() == 1
        answered = SupportQuestion.get(SupportQuestion.subject == "Не открывается чат класса")
        assert answered.status == SupportQuestion.ANSWERED
