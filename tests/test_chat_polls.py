"""Polls in chats (SPEC §6): making one through the form, the voting rules the server
enforces, who may do what, anonymity, and results pushed live to the chat."""
import datetime as dt
import logging
import re
import threading
import uuid
import zoneinfo

import pytest
from conftest import ROLES, AuthActions, csrf_token, gymnasium

from blueprints.chats import actions, polls
from blueprints.chats.actions import ChatError
from blueprints.extensions import socketio
from db import database
from db.models import Chat, Message, Poll, PollOption, PollVote, utcnow

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
MEMBERS = {"student", "teacher"}  # of the chat made by ``chat_id``


# Fixtures and helpers ----------------------------------------------------------------------


def make_chat(demo, members=("student", "student2"), teachers_only=False):
    """A group chat of the gymnasium made by Яна (teacher) with ``members``."""
    with database.connection_context():
        chat = actions.do_create_chat(
            demo["teacher"], gymnasium(), "7А — классный час", {demo[m].id for m in members},
            kind=Chat.GROUP, teachers_only=teachers_only,
        )
        return chat.id


@pytest.fixture
def chat_id(demo):
    return make_chat(demo)


@pytest.fixture
def kolya(app, demo):
    """Николай (student2, 7А), signed in."""
    client = app.test_client()
    AuthActions(client).login("kolya@example.org")
    return client


def new_poll_page(client, chat_id):
    page = client.get(f"/chats/{chat_id}/polls/new")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client_id = re.search(r'name="client_id" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    return token, client_id


def poll_data(question="Куда едем на экскурсию?", options=("В музей", "В планетарий"), **extra):
    data = {"question": question, "background": "blue", "retractable": "y"}
    for i, text in enumerate(options):
        data[f"options-{i}"] = text
    data.update(extra)
    return data


def post_poll(client, chat_id, client_id=None, **fields):
    token, fresh_id = new_poll_page(client, chat_id)
    data = {"csrf_token": token, "client_id": client_id or fresh_id, **poll_data(**fields)}
    return client.post(f"/chats/{chat_id}/polls/new", data=data)


def make_poll(app, author, chat_id, options=("Да", "Нет"), **settings):
    """A poll made through the action, as the form does; returns its id."""
    with app.test_request_context(), database.connection_context():
        chat = Chat.get_by_id(chat_id)
        message, _created = polls.do_create_poll(
            author, chat, uuid.uuid4().hex, "Вопрос дня", list(options), **settings
        )
        return Poll.get(Poll.message == message.id).id


def option_ids(poll_id):
    with database.connection_context():
        return [o.id for o in PollOption.select().where(PollOption.poll == poll_id).order_by(PollOption.position)]


def votes(poll_id):
    with database.connection_context():
        return sorted(
            (v.user_id, v.option_id) for v in PollVote.select().where(PollVote.poll == poll_id)
        )


def vote(client, chat_id, poll_id, *options, htmx=False, retract=False):
    headers = {"HX-Request": "true", "HX-Target": f"poll-{poll_id}"} if htmx else {}
    action = "retract" if retract else "vote"
    return client.post(
        f"/chats/{chat_id}/polls/{poll_id}/{action}",
        data={"csrf_token": csrf_token(client, f"/chats/{chat_id}"), "option": [str(o) for o in options]},
        headers=headers,
    )


def poll_section(html, poll_id):
    """The poll's own HTML on a page: from its root element to the end of it."""
    start = html.index(f'id="poll-{poll_id}"')
    return html[start:html.index("</section>", start)]


def flashed(client, chat_id):
    """The chat page, with the messages flashed after a plain-form vote."""
    return client.get(f"/chats/{chat_id}").get_data(as_text=True)


# Making a poll ---------------------------------------------------------------------------


def test_a_member_makes_a_poll_through_the_form(signed_in, chat_id):
    teacher = signed_in("teacher")
    response = post_poll(
        teacher, chat_id, options=("В музей", "", "В планетарий", "  В театр  "),
        background="green", multiple="y", anonymous="y",
    )
    assert response.status_code == 303
    with database.connection_context():
        message = Message.get((Message.chat == chat_id) & (Message.kind == Message.POLL))
        poll = Poll.get(Poll.message == message)
        options = [o.text for o in PollOption.select().where(PollOption.poll == poll).order_by(PollOption.position)]
    assert response.headers["Location"].endswith(f"/chats/{chat_id}#m{message.id}")
    assert message.body == poll.question == "Куда едем на экскурсию?"
    assert options == ["В музей", "В планетарий", "В театр"]
    assert (poll.background, poll.anonymous, poll.multiple, poll.retractable, poll.ends_at) == (
        "green", True, True, True, None,
    )
    page = teacher.get(f"/chats/{chat_id}").get_data(as_text=True)
    section = poll_section(page, poll.id)
    assert "Куда едем на экскурсию?" in section and 'type="checkbox"' in section
    assert "poll-bg-green" in section


def test_retraction_is_on_by_default_and_can_be_turned_off(signed_in, chat_id):
    teacher = signed_in("teacher")
    page = teacher.get(f"/chats/{chat_id}/polls/new").get_data(as_text=True)
    assert re.search(r'<input checked id="retractable"|id="retractable"[^>]*checked', page)
    data = poll_data()
    del data["retractable"]
    token, client_id = new_poll_page(teacher, chat_id)
    response = teacher.post(f"/chats/{chat_id}/polls/new", data={"csrf_token": token, "client_id": client_id, **data})
    assert response.status_code == 303
    with database.connection_context():
        assert Poll.get().retractable is False


def test_a_double_submit_makes_one_poll(signed_in, chat_id):
    teacher = signed_in("teacher")
    token, client_id = new_poll_page(teacher, chat_id)
    data = {"csrf_token": token, "client_id": client_id, **poll_data()}
    first = teacher.post(f"/chats/{chat_id}/polls/new", data=data)
    second = teacher.post(f"/chats/{chat_id}/polls/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    with database.connection_context():
        assert Message.select().where(Message.kind == Message.POLL).count() == 1
        assert Poll.select().count() == 1
        assert PollOption.select().count() == 2


def test_each_form_render_has_a_new_client_id(signed_in, chat_id):
    teacher = signed_in("teacher")
    assert new_poll_page(teacher, chat_id)[1] != new_poll_page(teacher, chat_id)[1]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"options": ("Один",)}, "Укажите хотя бы два варианта ответа"),
        ({"options": ("", "  ", "")}, "Укажите хотя бы два варианта ответа"),
        ({"options": ("Музей", "музей ")}, "Варианты ответа не должны повторяться"),
        ({"question": "   "}, "Напишите тему опроса"),
        ({"question": "Я" * 301}, "не длиннее 300 символов"),
        ({"options": ("Да", "Н" * 201)}, "не длиннее 200 символов"),
        ({"background": "red; background: url(//evil)"}, "Выберите"),
        ({"ends_at": "2020-01-01T10:00"}, "должно быть в будущем"),
        ({"ends_at": "завтра"}, None),
    ],
)
def test_a_bad_poll_is_refused_keeping_what_was_typed(signed_in, chat_id, fields, message):
    teacher = signed_in("teacher")
    typed = {"question": "Когда собрание?", "options": ("В среду", "В четверг"), **fields}
    response = post_poll(teacher, chat_id, **typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    if message:
        assert message in html
    assert 'class="error"' in html or "flash-error" in html
    if typed["question"].strip() and len(typed["question"]) <= 300:
        assert typed["question"] in html
    for text in typed["options"]:
        if text.strip() and len(text) <= 200:
            assert f'value="{text}"' in html
    with database.connection_context():
        assert Message.select().where(Message.chat == chat_id).count() == 0
        assert Poll.select().count() == 0


def test_ten_answers_are_the_most(signed_in, chat_id):
    teacher = signed_in("teacher")
    many = tuple(f"Вариант {i}" for i in range(12))
    response = post_poll(teacher, chat_id, options=many)
    assert response.status_code == 303  # fields past the tenth are not part of the form
    with database.connection_context():
        assert PollOption.select().count() == 10
    with pytest.raises(ChatError):
        polls.check_options([f"Вариант {i}" for i in range(11)])


def test_the_end_time_is_moscow_time(signed_in, chat_id):
    teacher = signed_in("teacher")
    local = (dt.datetime.now(MOSCOW) + dt.timedelta(hours=5)).replace(second=0, microsecond=0)
    response = post_poll(teacher, chat_id, ends_at=local.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303
    with database.connection_context():
        poll = Poll.get()
    assert poll.ends_at == local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    section = poll_section(teacher.get(f"/chats/{chat_id}").get_data(as_text=True), poll.id)
    assert f"до {local.day} " in section and local.strftime("%H:%M") in section


def test_the_form_is_in_english_for_an_english_speaker(signed_in, chat_id, demo):
    teacher = signed_in("teacher")
    teacher.post("/language", data={"csrf_token": csrf_token(teacher, "/"), "locale": "en"})
    response = post_poll(teacher, chat_id, options=("One",))
    assert response.status_code == 400
    assert "Give at least two answers." in response.get_data(as_text=True)


# Access ----------------------------------------------------------------------------------


def expected(role):
    if role == "anonymous":
        return 302
    return None if role in MEMBERS else 404


@pytest.mark.parametrize("role", ROLES)
def test_only_members_reach_the_poll_routes(app, demo, signed_in, role):
    chat_id = make_chat(demo, members=("student",))
    poll_id = make_poll(app, demo["teacher"], chat_id)
    first = option_ids(poll_id)[0]
    client = signed_in(role)
    token = csrf_token(client, "/")
    answers = {
        "new form": client.get(f"/chats/{chat_id}/polls/new"),
        "new": client.post(f"/chats/{chat_id}/polls/new", data={"csrf_token": token, **poll_data(), "client_id": "a" * 32}),
        "vote": client.post(f"/chats/{chat_id}/polls/{poll_id}/vote", data={"csrf_token": token, "option": first}),
        "retract": client.post(f"/chats/{chat_id}/polls/{poll_id}/retract", data={"csrf_token": token}),
    }
    for name, response in answers.items():
        if expected(role) is not None:
            assert response.status_code == expected(role), name
        else:
            assert response.status_code in (200, 303), name
    if role not in MEMBERS:
        assert votes(poll_id) == []
        with database.connection_context():
            assert Poll.select().count() == 1


def test_a_poll_of_another_chat_or_a_deleted_one_is_not_found(app, demo, signed_in, chat_id):
    other_chat = make_chat(demo, members=("student",))
    foreign = make_poll(app, demo["teacher"], other_chat)
    mine = make_poll(app, demo["teacher"], chat_id)
    student = signed_in("student")
    assert vote(student, chat_id, foreign, option_ids(foreign)[0]).status_code == 404
    with app.test_request_context(), database.connection_context():
        message = Poll.get_by_id(mine).message
        actions.do_delete_message(demo["teacher"], message.chat, message)
    assert vote(student, chat_id, mine, 1).status_code == 404
    assert vote(student, chat_id, mine, retract=True).status_code == 404


def test_a_member_who_cannot_write_cannot_make_a_poll_but_votes(app, demo, signed_in):
    chat_id = make_chat(demo, teachers_only=True)
    student = signed_in("student")
    assert student.get(f"/chats/{chat_id}/polls/new").status_code == 403
    token = csrf_token(student, f"/chats/{chat_id}")
    refused = student.post(
        f"/chats/{chat_id}/polls/new", data={"csrf_token": token, "client_id": "b" * 32, **poll_data()}
    )
    assert refused.status_code == 400
    assert "В этом чате пишут только учителя и администраторы" in refused.get_data(as_text=True)
    with database.connection_context():
        assert Poll.select().count() == 0
    poll_id = make_poll(app, demo["teacher"], chat_id)
    assert vote(student, chat_id, poll_id, option_ids(poll_id)[1]).status_code == 303
    assert votes(poll_id) == [(demo["student"].id, option_ids(poll_id)[1])]


# Voting rules ----------------------------------------------------------------------------


def test_a_single_choice_poll_takes_exactly_one_answer(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id, options=("Да", "Нет", "Не знаю"))
    yes, no, _unsure = option_ids(poll_id)
    student = signed_in("student")
    refused = vote(student, chat_id, poll_id, yes, no)
    assert refused.status_code == 303
    assert "Выберите один вариант ответа" in flashed(student, chat_id)
    assert votes(poll_id) == []
    vote(student, chat_id, poll_id)
    assert "Выберите вариант ответа" in flashed(student, chat_id)
    assert votes(poll_id) == []
    answer = vote(student, chat_id, poll_id, no)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/chats/{chat_id}#m{message_id_of(poll_id)}")
    assert votes(poll_id) == [(demo["student"].id, no)]


def message_id_of(poll_id):
    with database.connection_context():
        return Poll.get_by_id(poll_id).message_id


def test_a_multiple_choice_poll_takes_one_or_more_answers(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id, options=("Пн", "Ср", "Пт"), multiple=True)
    mon, _wed, fri = option_ids(poll_id)
    student = signed_in("student")
    vote(student, chat_id, poll_id)
    assert votes(poll_id) == []
    vote(student, chat_id, poll_id, mon, fri, fri)
    assert votes(poll_id) == sorted([(demo["student"].id, mon), (demo["student"].id, fri)])


def test_only_the_polls_own_answers_count(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id)
    other = make_poll(app, demo["teacher"], chat_id)
    student = signed_in("student")
    for bad in ([option_ids(other)[0]], ["x"], ["-1"], [option_ids(poll_id)[0], option_ids(other)[0]]):
        vote(student, chat_id, poll_id, *bad)
        assert votes(poll_id) == [] and votes(other) == [], bad
    assert "Выберите" in flashed(student, chat_id)


def test_a_closed_poll_takes_no_votes(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id)
    student = signed_in("student")
    vote(student, chat_id, poll_id, option_ids(poll_id)[0])
    with database.connection_context():
        Poll.update(ends_at=utcnow() - dt.timedelta(minutes=1)).where(Poll.id == poll_id).execute()
    before = votes(poll_id)
    response = vote(student, chat_id, poll_id, option_ids(poll_id)[1], htmx=True)
    assert response.status_code == 400
    assert "Голосование в этом опросе завершено" in response.get_data(as_text=True)
    vote(student, chat_id, poll_id, retract=True)
    assert votes(poll_id) == before
    section = poll_section(student.get(f"/chats/{chat_id}").get_data(as_text=True), poll_id)
    assert "Голосование завершено" in section and "<form" not in section


def test_without_retraction_a_vote_stays(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id, retractable=False)
    yes, no = option_ids(poll_id)
    student = signed_in("student")
    vote(student, chat_id, poll_id, yes)
    vote(student, chat_id, poll_id, no)
    assert "голос изменить нельзя" in flashed(student, chat_id)
    response = vote(student, chat_id, poll_id, retract=True, htmx=True)
    assert response.status_code == 400 and "голос отменить нельзя" in response.get_data(as_text=True)
    assert vote(student, chat_id, poll_id, yes).status_code == 303  # the same answer again changes nothing
    assert votes(poll_id) == [(demo["student"].id, yes)]
    section = poll_section(student.get(f"/chats/{chat_id}").get_data(as_text=True), poll_id)
    assert "Ваш голос учтён" in section and "Отменить голос" not in section and "<form" not in section


def test_with_retraction_a_vote_changes_or_is_withdrawn(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id)
    yes, no = option_ids(poll_id)
    student = signed_in("student")
    vote(student, chat_id, poll_id, yes)
    vote(student, chat_id, poll_id, no)
    assert votes(poll_id) == [(demo["student"].id, no)]
    section = poll_section(student.get(f"/chats/{chat_id}").get_data(as_text=True), poll_id)
    assert "Отменить голос" in section and "Изменить голос" in section
    assert re.search(rf'value="{no}" checked', section) and not re.search(rf'value="{yes}" checked', section)
    assert vote(student, chat_id, poll_id, retract=True).status_code == 303
    assert votes(poll_id) == []


def test_an_htmx_vote_gets_the_voters_own_poll_back(app, demo, signed_in, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id)
    yes, _no = option_ids(poll_id)
    response = vote(signed_in("student"), chat_id, poll_id, yes, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<section id="poll-{poll_id}"')
    assert re.search(rf'value="{yes}" checked', html) and "Отменить голос" in html
    assert "Проголосовал 1 человек" in html and "Мария И." in html
    assert "Vary" in response.headers


def test_simultaneous_votes_leave_one_vote_in_a_single_choice_poll(app, demo, chat_id):
    for retractable in (True, False):
        poll_id = make_poll(app, demo["teacher"], chat_id, retractable=retractable)
        options = option_ids(poll_id)
        barrier = threading.Barrier(len(options))
        outcomes = []

        def cast(option_id):
            with app.test_request_context(), database.connection_context():
                chat, poll = Chat.get_by_id(chat_id), Poll.get_by_id(poll_id)
                barrier.wait()
                try:
                    polls.do_vote(demo["student"], chat, poll, [option_id])
                    outcomes.append("ok")
                except ChatError:
                    outcomes.append("refused")

        threads = [threading.Thread(target=cast, args=(o,)) for o in options]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(votes(poll_id)) == 1, retractable
        assert outcomes.count("ok") == (2 if retractable else 1)


# Anonymity and results ---------------------------------------------------------------------


def test_names_never_show_in_an_anonymous_poll(app, demo, signed_in, kolya, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id, anonymous=True)
    teacher = signed_in("teacher")
    watcher = socketio.test_client(app, flask_test_client=teacher)
    assert watcher.emit("chat:join", {"chat_id": chat_id, "after": 0}, callback=True)["ok"]
    watcher.get_received()
    own = vote(signed_in("student"), chat_id, poll_id, option_ids(poll_id)[0], htmx=True).get_data(as_text=True)
    vote(kolya, chat_id, poll_id, option_ids(poll_id)[1])
    pushed = [e["args"][0]["html"] for e in watcher.get_received() if e["name"] == "chat:poll"]
    page = poll_section(teacher.get(f"/chats/{chat_id}").get_data(as_text=True), poll_id)
    assert len(pushed) == 2 and "Анонимный" in page
    for html in (own, page, *pushed):
        for name in ("Мария", "Иванова", "Николай", "Петров"):
            assert name not in html
    assert "Проголосовали 2 человека" in page
    watcher.disconnect()


def test_names_show_in_an_open_poll(app, demo, signed_in, kolya, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id)
    yes, no = option_ids(poll_id)
    vote(signed_in("student"), chat_id, poll_id, yes)
    vote(kolya, chat_id, poll_id, yes)
    page = poll_section(signed_in("teacher").get(f"/chats/{chat_id}").get_data(as_text=True), poll_id)
    assert "Мария И., Николай П." in page
    assert "100% · 2 голоса" in page and "0% · 0 голосов" in page


def test_results_reach_the_other_members_live(app, demo, signed_in, kolya, chat_id):
    poll_id = make_poll(app, demo["teacher"], chat_id, options=("Музей", "Театр"))
    museum, theatre = option_ids(poll_id)
    other = socketio.test_client(app, flask_test_client=kolya)
    ack = other.emit("chat:join", {"chat_id": chat_id, "after": 0}, callback=True)
    assert ack["ok"] and f'id="poll-{poll_id}"' in ack["html"]
    other.get_received()
    vote(signed_in("student"), chat_id, poll_id, theatre)
    events = [e for e in other.get_received() if e["name"] == "chat:poll"]
    assert len(events) == 1
    data = events[0]["args"][0]
    assert data["chat_id"] == chat_id and data["poll_id"] == poll_id
    assert data["html"].lstrip().startswith(f'<div id="poll-{poll_id}-results"')
    assert "1 голос" in data["html"] and "Проголосовал 1 человек" in data["html"]
    assert "csrf" not in data["html"] and "checked" not in data["html"]
    vote(kolya, chat_id, poll_id, museum)
    vote(kolya, chat_id, poll_id, museum)  # no change: nothing pushed
    latest = [e["args"][0]["html"] for e in other.get_received() if e["name"] == "chat:poll"]
    assert len(latest) == 1 and "Проголосовали 2 человека" in latest[0]
    other.disconnect()


def test_a_new_poll_is_pushed_to_the_chat_without_anyones_session(app, demo, signed_in, kolya, chat_id):
    other = socketio.test_client(app, flask_test_client=kolya)
    other.emit("chat:join", {"chat_id": chat_id, "after": 0}, callback=True)
    other.get_received()
    assert post_poll(signed_in("teacher"), chat_id).status_code == 303
    pushed = [e["args"][0]["html"] for e in other.get_received() if e["name"] == "chat:message"]
    assert len(pushed) == 1
    section = poll_section(pushed[0], only_poll_id())
    assert 'name="csrf_token" value=""' in section and "checked" not in section
    assert "Проголосовать" in section and "Отменить голос" not in section
    other.disconnect()


def only_poll_id():
    with database.connection_context():
        return Poll.get().id


def test_the_chat_page_loads_polls_in_a_fixed_number_of_queries(app, demo, chat_id, caplog):
    def queries_for(count):
        for _ in range(count):
            make_poll(app, demo["teacher"], chat_id)
        with app.test_request_context(), database.connection_context():
            chat = Chat.get_by_id(chat_id)
            messages, _older = actions.page_of_messages(chat)
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="peewee"):
                polls.with_viewer_votes(messages, demo["student"])
            ran = len([r for r in caplog.records if r.name == "peewee"])
            assert all(hasattr(m.poll, "viewer_votes") for m in messages if m.poll)
            return ran

    assert queries_for(1) == queries_for(6) <= 2
