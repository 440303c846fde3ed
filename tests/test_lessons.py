"""Video lessons on the web side (SPEC §7): who starts, joins and runs a lesson, invitations,
the 100-person cap, the host's panel, the end of a lesson, and TURN credentials.

The media themselves are tested against the real rtc process in tests/test_rtc_sfu.py, and
the whole path (Socket.IO signalling, the rtc process, two Chromiums) in
tests/browser/test_lessons.py."""
import base64
import hashlib
import hmac

import pytest
from conftest import ROLES, acting, csrf_token, gymnasium

from blueprints.chats import actions as chat_actions
from blueprints.extensions import socketio
from blueprints.lessons import actions, media
from blueprints.lessons.actions import LessonError
from db import database
from db.models import Chat, ChatMember, Lesson, LessonParticipant, Notification, SchoolClass, User

MEMBERS = {"teacher", "student"}  # of the class chat made by ``class_chat``


@pytest.fixture
def class_chat(app, demo):
    """«7А — Математика»: Яна (class teacher) and Мария; Ольга is Мария's mother."""
    with acting(app):
        c7 = SchoolClass.get(SchoolClass.name == "7А")
        chat = chat_actions.do_create_chat(
            demo["teacher"], gymnasium(), "7А — Математика", {demo["student"].id},
            kind=Chat.CLASS, school_class=c7,
        )
        return chat.id


def start(app, demo, chat_id, kind=Lesson.LESSON, invited=None):
    with acting(app):
        chat = Chat.get_by_id(chat_id)
        ids = actions.check_invited(chat, demo["teacher"], invited or [])
        lesson, _started = actions.do_start(demo["teacher"], chat, kind, ids)
        return lesson.id


def join(app, demo, key, lesson_id):
    with acting(app):
        lesson = Lesson.get_by_id(lesson_id)
        from blueprints.lessons import access

        return actions.do_join(demo[key], lesson, access.role_in(demo[key], lesson))


def posted(role, want):
    """What a form gets: a redirect where a page would be 200; 400 (no CSRF token) or the
    sign-in redirect for someone signed out."""
    if role == "anonymous":
        return (302, 400)
    return ({200: 303}.get(want, want),)


def expected(role, allowed, members=MEMBERS, refused=403):
    if role == "anonymous":
        return 302  # to sign-in (a POST without a session has no CSRF token: 400, see posted())
    if role in allowed:
        return 200
    return refused if role in members else 404


# Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_chats_staff_start_a_lesson(signed_in, class_chat, role):
    client = signed_in(role)
    assert client.get(f"/chats/{class_chat}/call").status_code == expected(role, {"teacher"})
    response = client.post(f"/chats/{class_chat}/call", data={
        "csrf_token": csrf_token(client, "/profile") if role != "anonymous" else "", "everyone": "1",
    })
    assert response.status_code in posted(role, expected(role, {"teacher"}))
    with database.connection_context():
        assert Lesson.select().count() == (1 if role == "teacher" else 0)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", [Lesson.LESSON, Lesson.BROADCAST])
def test_who_may_open_a_lesson(app, demo, signed_in, class_chat, role, kind):
    lesson_id = start(app, demo, class_chat, kind)
    allowed = MEMBERS | ({"parent"} if kind == Lesson.BROADCAST else set())
    client = signed_in(role)
    for url in (f"/lessons/{lesson_id}", f"/lessons/{lesson_id}/panel"):
        assert client.get(url).status_code == expected(role, allowed), url
    invite = client.get(f"/lessons/{lesson_id}/invite").status_code
    assert invite == expected(role, MEMBERS, members=allowed)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_host_runs_the_lesson(app, demo, signed_in, class_chat, role):
    lesson_id = start(app, demo, class_chat, Lesson.PARENT_MEETING)
    join(app, demo, "student", lesson_id)
    client = signed_in(role)
    token = csrf_token(client, "/profile") if role != "anonymous" else ""
    with database.connection_context():
        student_id = User.get(User.email == "masha@example.org").id
    for path in ("mute-all", "lower-hands", "settings", f"people/{student_id}/lower-hand"):
        response = client.post(f"/lessons/{lesson_id}/{path}", data={"csrf_token": token, "mics_allowed": "1"})
        want = expected(role, {"teacher"}, members=MEMBERS | {"parent"})
        assert response.status_code in posted(role, want), path
    response = client.post(f"/lessons/{lesson_id}/end", data={"csrf_token": token})
    assert response.status_code in posted(role, want)
    with database.connection_context():
        assert Lesson.get_by_id(lesson_id).is_running == (role != "teacher")


@pytest.mark.parametrize("role", ROLES)
def test_socket_events_refuse_outsiders(app, demo, signed_in, class_chat, role):
    if role == "anonymous":
        assert not socketio.test_client(app, flask_test_client=signed_in(role)).is_connected()
        return
    lesson_id = start(app, demo, class_chat)
    client = socketio.test_client(app, flask_test_client=signed_in(role))
    for event in ("lesson:join", "lesson:publish", "lesson:subscribe", "lesson:answer", "lesson:mode",
                  "lesson:media", "lesson:hand", "lesson:leave", "lesson:slots"):
        answer = client.emit(event, {"lesson_id": lesson_id, "sdp": "v=0"}, callback=True)
        if role in MEMBERS:
            assert answer.get("status") != 404, event  # refused for other reasons (no media server here)
        else:
            assert answer == {"ok": False, "status": 404, "error": "Такого урока нет, или он вам недоступен."}, event
    with database.connection_context():
        people = {p.user_id for p in LessonParticipant.select()}
    assert people <= {demo["teacher"].id, demo["student"].id}


# Starting and invitations -----------------------------------------------------------------


def test_calling_everyone_invites_every_member_and_picking_invites_only_those_picked(app, demo, signed_in, class_chat):
    teacher = signed_in("teacher")
    with acting(app):
        chat = Chat.get_by_id(class_chat)
        extra = User.get(User.email == "kolya@example.org")
        ChatMember.create(chat=chat, user=extra)
    page = teacher.get(f"/chats/{class_chat}").get_data(as_text=True)
    assert f'href="/chats/{class_chat}/call"' in page and "Начать видеоурок" in page

    # Picking someone outside the chat is refused and starts nothing.
    refused = teacher.post(f"/chats/{class_chat}/call", data={
        "csrf_token": csrf_token(teacher, f"/chats/{class_chat}/call"), "invite": str(demo["admin"].id),
    })
    assert refused.status_code == 400 and "Выберите людей из этого чата" in refused.get_data(as_text=True)
    nothing = teacher.post(f"/chats/{class_chat}/call", data={"csrf_token": csrf_token(teacher, "/profile")})
    assert nothing.status_code == 400 and "Выберите, кого позвать" in nothing.get_data(as_text=True)
    with database.connection_context():
        assert Lesson.select().count() == 0

    response = teacher.post(f"/chats/{class_chat}/call", data={
        "csrf_token": csrf_token(teacher, "/profile"), "invite": str(demo["student"].id), "kind": "lesson",
    })
    assert response.status_code == 303
    with database.connection_context():
        lesson = Lesson.get()
        invited = {n.user_id for n in Notification.select().where(Notification.kind == "lesson")}
    assert response.location == f"/lessons/{lesson.id}"
    assert invited == {demo["student"].id}
    with database.connection_context():
        text = Notification.get(Notification.kind == "lesson").text
    assert text == "Рощина Яна Михайловна приглашает вас на видеоурок."

    # The chat shows the running lesson with «Присоединиться»; calling again goes to it.
    student_page = signed_in("student").get(f"/chats/{class_chat}").get_data(as_text=True)
    assert "Идёт видеоурок." in student_page and f'href="/lessons/{lesson.id}"' in student_page
    assert teacher.get(f"/chats/{class_chat}/call").location == f"/lessons/{lesson.id}"

    # «Пригласить»: those not yet called.
    more = teacher.post(f"/lessons/{lesson.id}/invite", data={
        "csrf_token": csrf_token(teacher, "/profile"), "invite": str(extra.id),
    })
    assert more.status_code == 303
    with database.connection_context():
        assert Notification.select().where((Notification.kind == "lesson") & (Notification.user == extra)).count() == 1


def test_the_home_page_starts_a_lesson_for_a_class(app, demo, signed_in, class_chat):
    teacher = signed_in("teacher")
    page = teacher.get("/lessons/new").get_data(as_text=True)
    assert "7А — Математика" in page
    bad = teacher.post("/lessons/new", data={"csrf_token": csrf_token(teacher, "/lessons/new"), "chat": "999999"})
    assert bad.status_code == 400 and "Выберите класс или группу" in bad.get_data(as_text=True)
    response = teacher.post("/lessons/new", data={
        "csrf_token": csrf_token(teacher, "/lessons/new"), "chat": str(class_chat), "kind": "broadcast",
    })
    assert response.status_code == 303
    with database.connection_context():
        lesson = Lesson.get()
        assert (lesson.chat_id, lesson.kind, lesson.host_id) == (class_chat, "broadcast", demo["teacher"].id)
        assert Notification.select().where(Notification.kind == "lesson").count() == 1  # Мария
    assert signed_in("student").get("/lessons/new").status_code == 403


# In the lesson ----------------------------------------------------------------------------


def test_the_101st_person_is_told_the_lesson_is_full(app, demo, class_chat):
    lesson_id = start(app, demo, class_chat)
    with acting(app):
        chat = Chat.get_by_id(class_chat)
        lesson = Lesson.get_by_id(lesson_id)
        people = [User.create(first_name="Ученик", last_name=f"Номер{n}", email=f"pupil{n}@example.org", password_hash="!")
                  for n in range(101)]
        ChatMember.insert_many([{"chat": chat.id, "user": p.id} for p in people]).execute()
        for person in people[:100]:
            actions.do_join(person, lesson, "member")
        with pytest.raises(LessonError) as refusal:
            actions.do_join(people[100], lesson, "member")
        assert refusal.value.status == 409
        assert "Урок заполнен: в нём уже 100 человек" in str(refusal.value.message)
        actions.do_leave(people[0], lesson)
        actions.do_join(people[100], lesson, "member")  # room again once someone left
        assert len(actions.present(lesson)) == 100


def test_students_come_in_muted_and_the_host_decides_about_microphones(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)
    join(app, demo, "teacher", lesson_id)
    student = join(app, demo, "student", lesson_id)
    assert (student.audio_on, student.video_on) == (False, False)
    with acting(app):
        lesson = Lesson.get_by_id(lesson_id)
        actions.do_set_media(demo["student"], lesson, True, False)
        actions.do_settings(lesson, mics_allowed=False, cameras_allowed=True)
        assert LessonParticipant.get(user=demo["student"]).audio_on is False  # forbidding turns it off
        with pytest.raises(LessonError) as refusal:
            actions.do_set_media(demo["student"], lesson, True, False)
        assert "выключил микрофоны учеников" in str(refusal.value.message)
        actions.do_set_media(demo["teacher"], lesson, True, True)  # the host always may
        actions.do_set_media(demo["student"], lesson, False, True)
        assert LessonParticipant.get(user=demo["student"]).video_on is True
    panel = signed_in("teacher").get(f"/lessons/{lesson_id}/panel").get_data(as_text=True)
    assert "Ученики могут включать микрофон" in panel and 'name="mics_allowed" value="1" checked' not in panel


def test_raised_hands_queue_in_order_and_the_host_lowers_them(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)
    with acting(app):
        chat = Chat.get_by_id(class_chat)
        kolya = User.get(User.email == "kolya@example.org")
        ChatMember.create(chat=chat, user=kolya)
    demo = {**demo, "kolya": kolya}
    for key in ("teacher", "kolya", "student"):
        join(app, demo, key, lesson_id)
    with acting(app):
        lesson = Lesson.get_by_id(lesson_id)
        actions.do_hand(kolya, lesson, True)
        actions.do_hand(demo["student"], lesson, True)
        actions.do_hand(kolya, lesson, True)  # raising again keeps the place
    teacher = signed_in("teacher")
    panel = teacher.get(f"/lessons/{lesson_id}/panel").get_data(as_text=True)
    hands = panel[panel.index('id="call-hands"'):panel.index("</ol>")]
    assert hands.index(kolya.full_name) < hands.index(demo["student"].full_name)
    lowered = teacher.post(f"/lessons/{lesson_id}/people/{kolya.id}/lower-hand",
                           data={"csrf_token": csrf_token(teacher, "/profile")}, headers={"HX-Request": "true"})
    assert lowered.status_code == 200 and kolya.full_name not in lowered.get_data(as_text=True).split('id="call-people"')[0]
    teacher.post(f"/lessons/{lesson_id}/lower-hands", data={"csrf_token": csrf_token(teacher, "/profile")})
    with database.connection_context():
        assert not LessonParticipant.select().where(LessonParticipant.hand_raised_at.is_null(False)).exists()


def test_a_removed_participant_does_not_come_back(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)
    join(app, demo, "teacher", lesson_id)
    join(app, demo, "student", lesson_id)
    teacher = signed_in("teacher")
    response = teacher.post(f"/lessons/{lesson_id}/people/{demo['student'].id}/remove",
                            data={"csrf_token": csrf_token(teacher, "/profile")})
    assert response.status_code == 303
    with pytest.raises(LessonError) as refusal:
        join(app, demo, "student", lesson_id)
    assert refusal.value.status == 403
    self_removal = teacher.post(f"/lessons/{lesson_id}/people/{demo['teacher'].id}/remove",
                                data={"csrf_token": csrf_token(teacher, "/profile")}, headers={"HX-Request": "true"})
    assert self_removal.status_code == 400 and "завершите урок" in self_removal.get_data(as_text=True)


def test_the_lesson_ends_when_the_last_person_leaves_or_the_host_ends_it(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)
    join(app, demo, "teacher", lesson_id)
    join(app, demo, "student", lesson_id)
    student = signed_in("student")
    assert student.post(f"/lessons/{lesson_id}/leave", data={"csrf_token": csrf_token(student, "/profile")}).status_code == 303
    with database.connection_context():
        assert Lesson.get_by_id(lesson_id).is_running
    teacher = signed_in("teacher")
    teacher.post(f"/lessons/{lesson_id}/leave", data={"csrf_token": csrf_token(teacher, "/profile")})
    with database.connection_context():
        assert not Lesson.get_by_id(lesson_id).is_running
    ended = student.get(f"/lessons/{lesson_id}")
    assert ended.status_code == 410 and "Урок закончился" in ended.get_data(as_text=True)
    with pytest.raises(LessonError):
        join(app, demo, "student", lesson_id)

    second = start(app, demo, class_chat)  # a new lesson in the same chat
    assert second != lesson_id
    join(app, demo, "student", second)
    teacher.post(f"/lessons/{second}/end", data={"csrf_token": csrf_token(teacher, "/profile")})
    with database.connection_context():
        assert not Lesson.get_by_id(second).is_running
        assert not LessonParticipant.select().where(
            (LessonParticipant.lesson == second) & LessonParticipant.left_at.is_null()
        ).exists()


def test_parents_listen_to_broadcasts_only(app, demo, class_chat):
    lesson_id = start(app, demo, class_chat, Lesson.BROADCAST)
    listener = join(app, demo, "parent", lesson_id)
    assert listener.role == LessonParticipant.LISTENER
    with acting(app):
        lesson = Lesson.get_by_id(lesson_id)
        with pytest.raises(LessonError):
            actions.do_set_media(demo["parent"], lesson, True, False)
        with pytest.raises(LessonError):
            actions.do_hand(demo["parent"], lesson, True)


# The lesson chat on the call screen ---------------------------------------------------------


def test_the_call_screen_holds_the_lesson_chat_for_its_members_only(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat, Lesson.BROADCAST)
    chat_frame = f'data-src="/chats/{class_chat}?panel=1"'
    for role in ("teacher", "student"):
        page = signed_in(role).get(f"/lessons/{lesson_id}").get_data(as_text=True)
        assert 'id="call-chat"' in page and chat_frame in page, role
    # Ольга listens to the broadcast but is not a member of the class chat: no chat for her.
    parent = signed_in("parent")
    page = parent.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert 'id="call-chat"' not in page and "?panel=1" not in page
    assert parent.get(f"/chats/{class_chat}?panel=1").status_code == 404


def test_a_page_in_a_frame_of_ours_is_bare_and_never_saved_as_the_page(app, demo, signed_in, class_chat):
    student = signed_in("student")
    full = student.get(f"/chats/{class_chat}")
    framed = student.get(f"/chats/{class_chat}", headers={"Sec-Fetch-Dest": "iframe"})
    asked = student.get(f"/chats/{class_chat}?panel=1")
    assert full.status_code == framed.status_code == asked.status_code == 200
    assert '<header class="top">' in full.get_data(as_text=True)
    assert "no-store" not in full.headers.get("Cache-Control", "")
    for bare in (framed, asked):
        html = bare.get_data(as_text=True)
        assert '<body class="bare">' in html
        assert '<header class="top">' not in html and '<nav class="nav"' not in html and "<footer" not in html
        assert 'id="lesson-invite"' not in html and 'class="chat-head"' not in html
        assert 'id="message-form"' in html  # the chat itself is all there
        assert bare.headers["Cache-Control"] == "no-store"
    assert "Sec-Fetch-Dest" in full.headers["Vary"]


@pytest.mark.parametrize("url", ["/", "/auth/login", "/help"])
def test_only_our_own_pages_may_frame_ours(app, url):
    response = app.test_client().get(url)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"


# The invitation on pages without a socket ----------------------------------------------------

INVITED = "Рощина Яна Михайловна приглашает вас на видеоурок."


def test_an_invitation_shows_on_every_page_until_joined_or_put_off(app, demo, signed_in, class_chat):
    student = signed_in("student")
    assert student.get("/lessons/invitation").get_data(as_text=True).strip() == ""
    lesson_id = start(app, demo, class_chat, invited=[demo["student"].id])
    bar = student.get("/lessons/invitation").get_data(as_text=True)
    assert INVITED in bar and f'href="/lessons/{lesson_id}"' in bar
    # Drawn with the page, and asked for again every 20 s; the chat page has its socket instead.
    for url in ("/", "/notifications", "/help"):
        page = student.get(url).get_data(as_text=True)
        assert 'hx-get="/lessons/invitation" hx-trigger="every 20s"' in page and INVITED in page, url
    chat_page = student.get(f"/chats/{class_chat}").get_data(as_text=True)
    assert 'id="live-invitation"' not in chat_page
    # Nobody else sees it: the teacher who called, or another student who was not called.
    assert INVITED not in signed_in("teacher").get("/").get_data(as_text=True)
    # Opening the call screen settles it.
    assert student.get(f"/lessons/{lesson_id}").status_code == 200
    assert student.get("/lessons/invitation").get_data(as_text=True).strip() == ""
    assert INVITED not in student.get("/").get_data(as_text=True)


def test_not_now_puts_off_only_ones_own_invitation_and_needs_a_csrf_token(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)  # «Позвонить всем»: Мария is called
    student = signed_in("student")
    assert INVITED in student.get("/lessons/invitation").get_data(as_text=True)
    url = f"/lessons/{lesson_id}/invitation/dismiss"
    assert student.post(url).status_code == 400  # no CSRF token
    assert INVITED in student.get("/lessons/invitation").get_data(as_text=True)
    outsider = signed_in("operator")
    token = csrf_token(outsider, "/")
    assert outsider.post(url, data={"csrf_token": token}).status_code == 303
    assert INVITED in student.get("/lessons/invitation").get_data(as_text=True)  # not hers to put off
    assert outsider.post("/lessons/999999/invitation/dismiss", data={"csrf_token": token}).status_code == 404
    token = csrf_token(student, "/")
    put_off = student.post(url, data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert put_off.status_code == 200 and put_off.get_data(as_text=True) == ""
    assert student.get("/lessons/invitation").get_data(as_text=True).strip() == ""
    assert signed_in("anonymous").get("/lessons/invitation").status_code == 302


def test_an_invitation_to_a_lesson_that_ended_is_not_shown(app, demo, signed_in, class_chat):
    lesson_id = start(app, demo, class_chat)
    student = signed_in("student")
    assert INVITED in student.get("/lessons/invitation").get_data(as_text=True)
    with acting(app):
        Lesson.update(ended_at=Lesson.started_at).where(Lesson.id == lesson_id).execute()
    assert student.get("/lessons/invitation").get_data(as_text=True).strip() == ""
    assert INVITED not in student.get("/").get_data(as_text=True)


# TURN credentials -------------------------------------------------------------------------


def test_ice_servers_carry_coturn_shared_secret_credentials(app):
    with app.test_request_context():
        assert media.ice_servers(7) == []  # no TURN configured: the local network as it is
        app.config.update(TURN_URLS="turn:turn.school.example:443?transport=tcp, turns:turn.school.example:443",
                          TURN_SECRET="s3cret", TURN_TTL=3600)
        try:
            [server] = media.ice_servers(7, now=1_800_000_000)
        finally:
            app.config.update(TURN_URLS="", TURN_SECRET="")
    assert server["urls"] == ["turn:turn.school.example:443?transport=tcp", "turns:turn.school.example:443"]
    assert server["username"] == "1800003600:7"
    expected_password = base64.b64encode(hmac.new(b"s3cret", b"1800003600:7", hashlib.sha1).digest()).decode()
    assert server["credential"] == expected_password


# Where a running lesson shows ---------------------------------------------------------------


def test_home_and_class_pages_show_running_lessons_to_those_who_may_join(app, demo, signed_in, class_chat):
    teacher_home = signed_in("teacher").get("/").get_data(as_text=True)
    assert 'href="/lessons/new"' in teacher_home and "Начать урок" in teacher_home
    assert f'href="/chats/{class_chat}/call"' in teacher_home  # the camera on the class's tile
    assert 'href="/lessons/new"' not in signed_in("student").get("/").get_data(as_text=True)

    lesson_id = start(app, demo, class_chat, Lesson.BROADCAST)
    join_link = f'href="/lessons/{lesson_id}"'
    for role in ("teacher", "student", "parent"):  # the parent: a broadcast of the child's class
        assert join_link in signed_in(role).get("/").get_data(as_text=True), role
    for role in ("other_class_teacher", "admin", "other_school_admin"):
        assert join_link not in signed_in(role).get("/").get_data(as_text=True), role
    with database.connection_context():
        c7 = SchoolClass.get(SchoolClass.name == "7А")
    class_page = f"/schools/{c7.school_id}/classes/{c7.id}"
    assert join_link in signed_in("student").get(class_page).get_data(as_text=True)
    assert join_link not in signed_in("admin").get(class_page).get_data(as_text=True)  # not in that chat

    with acting(app):
        actions.do_end(Lesson.get_by_id(lesson_id))
    assert join_link not in signed_in("student").get("/").get_data(as_text=True)
