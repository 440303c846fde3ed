"""Chats and messages: who sees what, sending once, gap filling, unread state, moderation."""
import uuid

import pytest
from conftest import ROLES, acting, csrf_token, gymnasium, post_form

from blueprints.chats import actions
from blueprints.extensions import socketio
from db import database
from db.models import Chat, ChatMember, Message, MessageReport, Notification, SchoolClass

MEMBERS = {"student", "teacher"}  # of the class chat made by ``class_chat``


@pytest.fixture
def class_chat(app, demo):
    """«7А — Математика»: made by Яна (class teacher) for Мария; Пётр, the parent and Илья are not in it."""
    with acting(app):
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        chat = actions.do_create_chat(
            demo["teacher"], gymnasium(), "7А — Математика", {demo["student"].id},
            kind=Chat.CLASS, school_class=c7,
        )
        message, _ = actions.do_send_message(demo["teacher"], chat, cid(), "Добрый день, 7А!")
        return chat.id, message.id


def cid():
    return uuid.uuid4().hex


def send(client, chat_id, body, client_id=None, **extra):
    page = f"/chats/{chat_id}"
    return client.post(
        f"/chats/{chat_id}/messages",
        data={"csrf_token": csrf_token(client, page), "client_id": client_id or cid(), "body": body, **extra},
    )


def messages_in(chat_id):
    with database.connection_context():
        return list(Message.select().where(Message.chat == chat_id).order_by(Message.id))


def socket_for(app, client):
    return socketio.test_client(app, flask_test_client=client)


# Access ------------------------------------------------------------------------------------


def expected(role, allowed=MEMBERS):
    if role == "anonymous":
        return 302
    return 200 if role in allowed else 404


@pytest.mark.parametrize("role", ROLES)
def test_only_members_read_a_chat(signed_in, class_chat, role):
    chat_id, message_id = class_chat
    client = signed_in(role)
    for url in (f"/chats/{chat_id}", f"/chats/{chat_id}/since/0", f"/chats/{chat_id}/people"):
        response = client.get(url)
        assert response.status_code == expected(role), url
        if response.status_code == 200 and url.endswith("since/0"):
            assert "Добрый день, 7А!" in response.get_data(as_text=True)
        if response.status_code != 200:
            assert "Добрый день" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_only_members_write(signed_in, class_chat, role):
    chat_id, message_id = class_chat
    client = signed_in(role)
    token = csrf_token(client, "/auth/login" if role == "anonymous" else "/profile")
    before = len(messages_in(chat_id))
    response = client.post(
        f"/chats/{chat_id}/messages", data={"csrf_token": token, "client_id": cid(), "body": "Привет"}
    )
    if role in MEMBERS:
        assert response.status_code == 303
        assert len(messages_in(chat_id)) == before + 1
    else:
        assert response.status_code == expected(role)
        assert len(messages_in(chat_id)) == before


@pytest.mark.parametrize("role", ROLES)
def test_member_only_actions_refuse_outsiders(signed_in, class_chat, role):
    chat_id, message_id = class_chat
    if role in MEMBERS:
        return
    client = signed_in(role)
    token = csrf_token(client, "/auth/login" if role == "anonymous" else "/profile")
    posts = (
        f"/chats/{chat_id}/messages/{message_id}/delete",
        f"/chats/{chat_id}/messages/{message_id}/report",
        f"/chats/{chat_id}/messages/{message_id}/edit",
        f"/chats/{chat_id}/settings",
        f"/chats/{chat_id}/leave",
    )
    for url in posts:
        assert client.post(url, data={"csrf_token": token}).status_code == expected(role), url
    assert client.get(f"/chats/{chat_id}/messages/{message_id}/edit").status_code == expected(role)
    assert messages_in(chat_id)[0].deleted_at is None


@pytest.mark.parametrize("role", ROLES)
def test_socket_events_refuse_outsiders(app, signed_in, class_chat, role):
    chat_id, message_id = class_chat
    client = signed_in(role)
    socket = socket_for(app, client)
    if role == "anonymous":
        assert not socket.is_connected()
        return
    join = socket.emit("chat:join", {"chat_id": chat_id, "after": 0}, callback=True)
    sent = socket.emit("chat:send", {"chat_id": chat_id, "client_id": cid(), "body": "hi"}, callback=True)
    if role in MEMBERS:
        assert join["ok"] and "Добрый день, 7А!" in join["html"]
        assert sent["ok"]
    else:
        assert join == {"ok": False, "status": 404}
        assert sent == {"ok": False, "status": 404}
        # Not in the room: a message sent by a member does not reach them.
        socket.get_received()
        with acting(app):
            from db.models import User

            yana = User.get(User.phone == "+79000000002")
            actions.do_send_message(yana, Chat.get_by_id(chat_id), cid(), "только для класса")
        assert not [e for e in socket.get_received() if e["name"] == "chat:message"]
    socket.disconnect()


def test_the_edit_form_is_only_for_the_author(signed_in, class_chat):
    chat_id, message_id = class_chat
    assert signed_in("student").get(f"/chats/{chat_id}/messages/{message_id}/edit").status_code == 403
    assert signed_in("teacher").get(f"/chats/{chat_id}/messages/{message_id}/edit").status_code == 200


# Sending once ---------------------------------------------------------------------------------


def test_resending_the_same_client_id_stores_one_message(signed_in, class_chat):
    chat_id, _ = class_chat
    client = signed_in("student")
    client_id = cid()
    for _attempt in range(3):
        assert send(client, chat_id, "Я отправила это один раз", client_id).status_code == 303
    bodies = [m.body for m in messages_in(chat_id)]
    assert bodies.count("Я отправила это один раз") == 1


def test_resending_over_the_socket_stores_and_pushes_one_message(app, signed_in, class_chat):
    chat_id, _ = class_chat
    sender, listener = socket_for(app, signed_in("student")), socket_for(app, signed_in("teacher"))
    assert listener.emit("chat:join", {"chat_id": chat_id, "after": 0}, callback=True)["ok"]
    listener.get_received()
    payload = {"chat_id": chat_id, "client_id": cid(), "body": "Сеть моргнула"}
    first = sender.emit("chat:send", payload, callback=True)
    second = sender.emit("chat:send", payload, callback=True)
    assert first["ok"] and first["created"]
    assert second == {"ok": True, "id": first["id"], "created": False}
    pushed = [e for e in listener.get_received() if e["name"] == "chat:message"]
    assert len(pushed) == 1
    assert pushed[0]["args"][0]["id"] == first["id"]
    assert "Сеть моргнула" in pushed[0]["args"][0]["html"]


def test_a_client_id_cannot_be_reused_in_another_chat(app, demo, signed_in, class_chat):
    chat_id, _ = class_chat
    with acting(app):
        other = actions.do_create_chat(demo["teacher"], gymnasium(), "Кружок", {demo["student"].id})
    socket = socket_for(app, signed_in("student"))
    client_id = cid()
    assert socket.emit("chat:send", {"chat_id": chat_id, "client_id": client_id, "body": "a"}, callback=True)["ok"]
    again = socket.emit("chat:send", {"chat_id": other.id, "client_id": client_id, "body": "a"}, callback=True)
    assert again["ok"] is False
    assert messages_in(other.id) == []


@pytest.mark.parametrize(
    "body, client_id, message",
    [
        ("", None, "Сначала напишите сообщение."),
        ("   \n ", None, "Сначала напишите сообщение."),
        ("x" * 4001, None, "Сообщение — не длиннее 4000 знаков."),
        ("Привет", "bad id!", "Сообщение не отправилось. Обновите страницу и попробуйте ещё раз."),
    ],
)
def test_bad_messages_are_refused_with_a_clear_message(signed_in, class_chat, body, client_id, message):
    chat_id, _ = class_chat
    client = signed_in("student")
    before = len(messages_in(chat_id))
    response = send(client, chat_id, body, client_id or cid())
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(messages_in(chat_id)) == before


def test_text_is_escaped_and_links_are_clickable(signed_in, class_chat):
    chat_id, _ = class_chat
    client = signed_in("student")
    send(client, chat_id, '<script>alert(1)</script> см. https://example.org/task?a=1&b=2.')
    page = client.get(f"/chats/{chat_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://example.org/task?a=1&amp;b=2" rel="noopener nofollow ugc" target="_blank">' in page


# Gap fill -------------------------------------------------------------------------------------


def test_a_reconnecting_client_gets_exactly_what_it_missed(app, demo, signed_in, class_chat):
    chat_id, first_id = class_chat
    socket = socket_for(app, signed_in("student"))
    assert socket.emit("chat:join", {"chat_id": chat_id, "after": first_id}, callback=True)["count"] == 0
    socket.disconnect()
    with acting(app):
        chat = Chat.get_by_id(chat_id)
        missed = [actions.do_send_message(demo["teacher"], chat, cid(), f"пропущенное {n}")[0].id for n in range(3)]
    socket = socket_for(app, signed_in("student"))
    answer = socket.emit("chat:join", {"chat_id": chat_id, "after": first_id}, callback=True)
    assert answer["ok"] and answer["count"] == 3 and answer["last_id"] == missed[-1]
    html = answer["html"]
    assert [f'id="m{i}"' in html for i in missed] == [True] * 3
    assert f'id="m{first_id}"' not in html
    assert html.index("пропущенное 0") < html.index("пропущенное 2")
    after_all = socket.emit("chat:join", {"chat_id": chat_id, "after": missed[-1]}, callback=True)
    assert after_all["count"] == 0 and after_all["html"] == ""


def test_gap_fill_over_http_matches_the_socket(app, signed_in, demo, class_chat):
    chat_id, first_id = class_chat
    with acting(app):
        later = actions.do_send_message(demo["teacher"], Chat.get_by_id(chat_id), cid(), "позже")[0]
    html = signed_in("student").get(f"/chats/{chat_id}/since/{first_id}").get_data(as_text=True)
    assert f'id="m{later.id}"' in html and f'id="m{first_id}"' not in html


# Unread state and announcements ------------------------------------------------------------------


def test_unread_counts_the_divider_and_reading(signed_in, demo, class_chat):
    chat_id, first_id = class_chat
    student = signed_in("student")
    index = student.get("/chats").get_data(as_text=True)
    assert "7А — Математика" in index and 'aria-label="1 непрочитанное сообщение"' in index
    page = student.get(f"/chats/{chat_id}").get_data(as_text=True)
    assert page.index('id="unread"') < page.index(f'id="m{first_id}"')
    assert 'aria-label="1 непрочитанное сообщение"' not in student.get("/chats").get_data(as_text=True)
    assert 'id="unread"' not in student.get(f"/chats/{chat_id}").get_data(as_text=True)


def test_chats_are_listed_newest_first(app, signed_in, demo, class_chat):
    chat_id, _ = class_chat
    with acting(app):
        newer = actions.do_create_chat(demo["teacher"], gymnasium(), "Экскурсия в музей", {demo["student"].id})
        actions.do_send_message(demo["teacher"], newer, cid(), "Сбор в 9:00")
    index = signed_in("student").get("/chats").get_data(as_text=True)
    assert index.index("Экскурсия в музей") < index.index("7А — Математика")


def test_an_announcement_shows_how_many_have_read_it(app, signed_in, demo, class_chat):
    chat_id, _ = class_chat
    with acting(app):
        chat = Chat.get_by_id(chat_id)
        actions.do_join(demo["student2"], chat)
    teacher = signed_in("teacher")
    response = send(teacher, chat_id, "Завтра контрольная", announcement="1")
    assert response.status_code == 303
    announcement = messages_in(chat_id)[-1]
    assert announcement.kind == Message.ANNOUNCEMENT
    assert "прочитали 0 из 2" in teacher.get(f"/chats/{chat_id}").get_data(as_text=True)
    listener = socket_for(app, teacher)
    listener.emit("chat:join", {"chat_id": chat_id, "after": announcement.id}, callback=True)
    listener.get_received()
    signed_in("student").get(f"/chats/{chat_id}")
    reads = [e["args"][0] for e in listener.get_received() if e["name"] == "chat:reads"]
    assert reads and "прочитали 1 из 2" in reads[-1]["html"]
    assert "прочитали 1 из 2" in teacher.get(f"/chats/{chat_id}").get_data(as_text=True)


def test_students_cannot_make_announcements(signed_in, class_chat):
    chat_id, _ = class_chat
    response = send(signed_in("student"), chat_id, "Внимание всем", announcement="1")
    assert response.status_code == 400
    assert "Объявления делают только учителя и администраторы." in response.get_data(as_text=True)


# Replies, editing, deleting -----------------------------------------------------------------------


def test_reply_edit_and_delete_ones_own(signed_in, class_chat):
    chat_id, first_id = class_chat
    student = signed_in("student")
    send(student, chat_id, "Можно вопрос?", reply_to=str(first_id))
    mine = messages_in(chat_id)[-1]
    assert mine.reply_to_id == first_id
    page = student.get(f"/chats/{chat_id}").get_data(as_text=True)
    assert f'class="msg-quote" href="#m{first_id}"' in page
    edit_url = f"/chats/{chat_id}/messages/{mine.id}/edit"
    assert post_form(student, edit_url, {"body": "Можно два вопроса?"}).status_code == 303
    assert messages_in(chat_id)[-1].body == "Можно два вопроса?"
    assert post_form(student, edit_url, {"body": " "}).status_code == 400
    assert messages_in(chat_id)[-1].body == "Можно два вопроса?"
    delete = post_form(student, f"/chats/{chat_id}/messages/{mine.id}/delete", {}, page=f"/chats/{chat_id}")
    assert delete.status_code == 303
    gone = messages_in(chat_id)[-1]
    assert gone.deleted_at is not None and gone.body == ""
    assert "Сообщение удалено." in student.get(f"/chats/{chat_id}").get_data(as_text=True)


def test_who_may_delete(app, signed_in, demo, class_chat):
    chat_id, teacher_message = class_chat
    with acting(app):
        chat = Chat.get_by_id(chat_id)
        actions.do_join(demo["teacher2"], chat)
        actions.do_join(demo["admin"], chat)
        student_message = actions.do_send_message(demo["student"], chat, cid(), "от Марии")[0].id
    url = f"/chats/{chat_id}/messages/{{}}/delete"
    page = f"/chats/{chat_id}"
    # Another member (Пётр) deletes neither; the creator (Яна) and the administrator do.
    assert post_form(signed_in("other_class_teacher"), url.format(student_message), {}, page=page).status_code == 403
    assert post_form(signed_in("student"), url.format(teacher_message), {}, page=page).status_code == 403
    assert post_form(signed_in("teacher"), url.format(student_message), {}, page=page).status_code == 303
    assert post_form(signed_in("admin"), url.format(teacher_message), {}, page=page).status_code == 303
    assert all(m.deleted_at for m in messages_in(chat_id))


# Moderation and reports -------------------------------------------------------------------------


def test_a_teachers_only_chat(signed_in, class_chat):
    chat_id, _ = class_chat
    student, teacher = signed_in("student"), signed_in("teacher")
    assert post_form(student, f"/chats/{chat_id}/settings", {"teachers_only": "1"}, page=f"/chats/{chat_id}").status_code == 403
    assert post_form(teacher, f"/chats/{chat_id}/settings", {"teachers_only": "1"}, page=f"/chats/{chat_id}").status_code == 303
    response = send(student, chat_id, "Можно?")
    assert response.status_code == 400
    assert "В этом чате пишут только учителя и администраторы." in response.get_data(as_text=True)
    assert send(teacher, chat_id, "Можно.").status_code == 303


def test_a_report_reaches_the_schools_administrators(app, signed_in, demo, class_chat):
    chat_id, message_id = class_chat
    student = signed_in("student")
    url = f"/chats/{chat_id}/messages/{message_id}/report"
    assert post_form(student, url, {"reason": "грубость"}, page=f"/chats/{chat_id}").status_code == 303
    assert post_form(student, url, {"reason": "ещё раз"}, page=f"/chats/{chat_id}").status_code == 303
    with acting(app):
        assert MessageReport.select().count() == 1
        assert Notification.select().where(Notification.user == demo["admin"]).count() == 1
    school_id = gymnasium_id()
    reports_url = f"/schools/{school_id}/reports"
    assert signed_in("teacher").get(reports_url).status_code == 403
    assert signed_in("other_school_admin").get(reports_url).status_code == 404
    admin = signed_in("admin")
    page = admin.get(reports_url).get_data(as_text=True)
    assert "Добрый день, 7А!" in page and "грубость" in page
    with acting(app):
        report_id = MessageReport.get().id
    assert post_form(admin, reports_url, {"report": report_id, "action": "delete"}).status_code == 303
    assert messages_in(chat_id)[0].deleted_at is not None
    assert "Добрый день, 7А!" not in admin.get(reports_url).get_data(as_text=True)


def test_nobody_reports_their_own_message(app, signed_in, class_chat):
    chat_id, message_id = class_chat
    post_form(signed_in("teacher"), f"/chats/{chat_id}/messages/{message_id}/report", {}, page=f"/chats/{chat_id}")
    with acting(app):
        assert MessageReport.select().count() == 0


def gymnasium_id():
    with database.connection_context():
        return gymnasium().id


# Making chats ------------------------------------------------------------------------------------


def test_a_class_chat_from_the_class_page(app, signed_in, demo):
    with acting(app):
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        school_id = c7.school_id
    teacher = signed_in("teacher")
    class_page = teacher.get(f"/schools/{school_id}/classes/{c7.id}").get_data(as_text=True)
    assert f"/chats/new?class={c7.id}" in class_page
    response = post_form(
        teacher, "/chats/new", {"class": c7.id, "name": "7А — Физика", "everyone": "1"},
        page=f"/chats/new?class={c7.id}",
    )
    assert response.status_code == 303
    with acting(app):
        chat = Chat.get(Chat.name == "7А — Физика")
        people = {m.user_id for m in ChatMember.select().where(ChatMember.chat == chat)}
        assert chat.kind == Chat.CLASS and chat.is_public
        assert people == {demo["teacher"].id, demo["student"].id, demo["student2"].id}
    assert "7А — Физика" in signed_in("admin").get(f"/schools/{school_id}/chats").get_data(as_text=True)
    assert "7А — Физика" in teacher.get(f"/schools/{school_id}/classes/{c7.id}").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("student", 403), ("parent", 403), ("other_school_admin", 404), ("admin", 200), ("other_class_teacher", 200)])
def test_who_makes_class_chats(app, signed_in, role, status):
    with acting(app):
        c7 = SchoolClass.get(SchoolClass.name == "7А")
    assert signed_in(role).get(f"/chats/new?class={c7.id}").status_code == status


def test_a_class_chat_takes_only_the_classs_students(app, signed_in, demo):
    with acting(app):
        c7 = SchoolClass.get(SchoolClass.name == "7А")
    response = post_form(
        signed_in("teacher"), "/chats/new", {"class": c7.id, "name": "7А", "members": [demo["student3"].id]},
        page=f"/chats/new?class={c7.id}",
    )
    assert response.status_code == 400
    with acting(app):
        assert Chat.select().count() == 0


def test_a_group_chat_refuses_outsiders_and_needs_a_name(app, signed_in, demo):
    school_id = gymnasium_id()
    teacher = signed_in("teacher")
    page = f"/chats/new?school={school_id}"
    outsider = post_form(teacher, "/chats/new", {"school": school_id, "name": "Кружок", "members": [demo["son"].id]}, page=page)
    assert outsider.status_code == 400 and "Выберите людей из списка." in outsider.get_data(as_text=True)
    nameless = post_form(teacher, "/chats/new", {"school": school_id, "name": " ", "members": [demo["student"].id]}, page=page)
    assert nameless.status_code == 400 and "Дайте чату название." in nameless.get_data(as_text=True)
    with acting(app):
        assert Chat.select().count() == 0
    assert signed_in("student").get(page).status_code == 403


def test_joining_a_public_chat(app, signed_in, demo, class_chat):
    chat_id, _ = class_chat
    page = f"/schools/{gymnasium_id()}/chats"
    # Another student of 7А may join the class's chat; a student of 11А and a parent may not.
    assert post_form(signed_in("parent"), f"/chats/{chat_id}/join", {}, page="/profile").status_code == 404
    with acting(app):
        from blueprints.chats.access import can_join

        chat = Chat.get_by_id(chat_id)
        assert can_join(demo["student2"], chat)
        assert not can_join(demo["student3"], chat)
    assert post_form(signed_in("other_class_teacher"), f"/chats/{chat_id}/join", {}, page=page).status_code == 303
    assert signed_in("other_class_teacher").get(f"/chats/{chat_id}").status_code == 200


@pytest.mark.parametrize(
    "me, other, allowed",
    [
        ("student", "student2", True),
        ("student", "teacher", True),
        ("parent", "teacher", True),  # teaches her child's class
        ("parent", "admin", True),
        ("parent", "student", True),  # her own child
        ("parent", "student3", False),  # another family's child
        ("student3", "parent", False),
        ("student", "lyceum_admin", False),  # another school
    ],
)
def test_personal_chats(app, signed_in, demo, me, other, allowed):
    from conftest import AuthActions

    client = signed_in("anonymous")
    AuthActions(client).login(identifier_of(demo[me]))
    response = post_form(client, "/chats/personal", {"school": gymnasium_id(), "user": demo[other].id}, page="/profile")
    assert response.status_code == (303 if allowed else 404 if other == "lyceum_admin" else 403)
    if allowed:
        again = post_form(client, "/chats/personal", {"school": gymnasium_id(), "user": demo[other].id}, page="/profile")
        assert again.headers["Location"] == response.headers["Location"]
        with acting(app):
            assert Chat.select().where(Chat.kind == Chat.PERSONAL).count() == 1


def identifier_of(user):
    return user.email or user.phone


def test_participants_offer_write_only_where_allowed(signed_in, demo):
    page = signed_in("parent").get(f"/schools/{gymnasium_id()}/participants").get_data(as_text=True)
    assert f'name="user" value="{demo["teacher"].id}"' in page
    assert f'name="user" value="{demo["student3"].id}"' not in page


def test_a_message_is_pushed_in_each_members_language(app, signed_in, demo, class_chat):
    chat_id, _ = class_chat
    with acting(app):
        demo["student"].locale = "en"
        demo["student"].save()
    english, russian = socket_for(app, signed_in("student")), socket_for(app, signed_in("teacher"))
    for socket in (english, russian):
        socket.emit("chat:join", {"chat_id": chat_id, "after": 10**6}, callback=True)
        socket.get_received()
    send(signed_in("teacher"), chat_id, "Урок перенесён", announcement="1")
    en = [e for e in english.get_received() if e["name"] == "chat:message"][0]["args"][0]["html"]
    ru = [e for e in russian.get_received() if e["name"] == "chat:message"][0]["args"][0]["html"]
    assert "Announcement" in en and "Объявление" in ru
    assert 'name="csrf_token" value=""' in ru  # each recipient's page puts in its own token
