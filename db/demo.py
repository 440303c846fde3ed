"""Demo data for a first start: «Гимназия №1» in Moscow with its people."""
import datetime as dt
import io
import uuid
import zipfile
from pathlib import Path

from flask import current_app

from db import database
from db.models import (
    JoinRequest,
    Membership,
    ParentLink,
    School,
    SchoolApplication,
    SchoolClass,
    User,
    utcnow,
)

DEMO_PASSWORD = "parta-demo"

PEOPLE = [
    # key, phone, email, last, first, patronymic, gender, birth date
    ("admin", "+79000000001", None, "Чередин", "Илья", "Сергеевич", "m", "1980-03-14"),
    ("teacher", "+79000000002", None, "Рощина", "Яна", "Михайловна", "f", "1992-07-22"),
    ("teacher2", "+79000000003", None, "Соколов", "Пётр", "Андреевич", "m", "1985-11-02"),
    ("student", None, "masha@example.org", "Иванова", "Мария", "Олеговна", "f", "2012-05-09"),
    ("student2", None, "kolya@example.org", "Петров", "Николай", "Ильич", "m", "2012-09-30"),
    ("student3", "+79000000013", None, "Смирнова", "Анна", "Викторовна", "f", "2008-01-17"),
    ("student4", None, "artem@example.org", "Кузнецов", "Артём", "Денисович", "m", "2008-04-25"),
    ("parent", "+79000000010", None, "Иванова", "Ольга", "Петровна", "f", "1984-12-01"),
    ("lyceum_admin", "+79000000021", None, "Орлова", "Марина", "Игоревна", "f", "1979-06-05"),
    ("son", None, "dima@example.org", "Иванов", "Дмитрий", "Олегович", "m", "2015-02-11"),
    ("operator", None, "operator@example.org", "Операторова", "Вера", "", "f", "1990-01-01"),
]

ROLE_NAMES = {
    "admin": "администратор",
    "teacher": "учитель, классный руководитель 7А",
    "teacher2": "учитель, классный руководитель 11А",
    "student": "ученица 7А",
    "student2": "ученик 7А",
    "student3": "ученица 11А",
    "student4": "ученик 11А",
    "parent": "родитель: Мария (7А, Гимназия №1) и Дмитрий (5Б, Лицей №2)",
    "lyceum_admin": "администратор Лицея №2 (Тверь)",
    "son": "ученик 5Б, Лицей №2",
    "operator": "оператор платформы (заявки школ)",
}


def load_if_empty(base_url="http://127.0.0.1:8000"):
    """Load the demo on the first start only; returns whether it did."""
    # Links in the showcase are built with url_for, so it runs in a request context,
    # whose teardown closes the connection opened here.
    with current_app.test_request_context(base_url=base_url):
        database.connect(reuse_if_open=True)
        if User.select().exists():
            return False
        load_showcase(load())
        return True


def load():
    from blueprints.auth.actions import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    with database.atomic():
        users = {}
        for key, phone, email, last, first, patronymic, gender, born in PEOPLE:
            users[key] = User.create(
                phone=phone,
                email=email,
                password_hash=password_hash,
                last_name=last,
                first_name=first,
                patronymic=patronymic,
                gender=gender,
                birth_date=dt.date.fromisoformat(born),
            )
        school = School.create(
            full_name="Государственное бюджетное общеобразовательное учреждение «Гимназия №1»",
            short_name="Гимназия №1",
            region="Москва",
            city="Москва",
            description="Гимназия с углублённым изучением математики и иностранных языков.",
            phone="+74950000001",
            email="info@gymnasium1.example.org",
            address="Москва, ул. Школьная, д. 1",
        )
        c7 = SchoolClass.create(school=school, name="7А", class_teacher=users["teacher"])
        c11 = SchoolClass.create(
            school=school, name="11А", profile="социально-гуманитарный", class_teacher=users["teacher2"]
        )

        def member(key, role, school_class=None, subject=""):
            Membership.create(
                user=users[key], school=school, role=role, school_class=school_class, subject=subject
            )

        member("admin", Membership.ADMIN)
        member("teacher", Membership.TEACHER, c7, "Математика")
        member("teacher", Membership.TEACHER, c11, "Математика")
        member("teacher2", Membership.TEACHER, c11, "Физика")
        member("teacher2", Membership.TEACHER, c7, "Физика")
        member("student", Membership.STUDENT, c7)
        member("student2", Membership.STUDENT, c7)
        member("student3", Membership.STUDENT, c11)
        member("student4", Membership.STUDENT, c11)
        member("parent", Membership.PARENT, c7)
        Membership.update(position="Директор").where(
            (Membership.user == users["admin"]) & (Membership.role == Membership.ADMIN)
        ).execute()

        lyceum = School.create(
            full_name="Муниципальное общеобразовательное учреждение «Лицей №2»",
            short_name="Лицей №2",
            region="Тверская область",
            city="Тверь",
            description="Лицей в центре Твери.",
        )
        c5 = SchoolClass.create(school=lyceum, name="5Б", class_teacher=None)
        Membership.create(user=users["lyceum_admin"], school=lyceum, role=Membership.ADMIN)
        Membership.create(user=users["son"], school=lyceum, role=Membership.STUDENT, school_class=c5)
        Membership.create(user=users["parent"], school=lyceum, role=Membership.PARENT, school_class=c5)
        for child in ("student", "son"):
            ParentLink.create(parent=users["parent"], child=users[child], confirmed_at=utcnow())
        users["operator"].is_operator = True
        users["operator"].save()
    return users


def load_showcase(users):
    """What `make run` adds on top of ``load()`` so that every screen has something to show:
    pending requests and school applications, live invitation links, a parent link and
    QR code, and an e-diary (OneRoster) import. Tests start from ``load()`` alone.
    """
    from blueprints.schools import parents, requests_actions, roster_import

    school = School.get(School.short_name == "Гимназия №1")
    c7 = SchoolClass.get((SchoolClass.school == school) & (SchoolClass.name == "7А"))
    password_hash = users["admin"].password_hash
    with database.atomic():
        requests_actions.do_create_invitation(users["admin"], school, Membership.TEACHER, c7, 30)
        requests_actions.do_create_invitation(
            users["teacher"], school, Membership.STUDENT, c7, 7, max_uses=30
        )
        newcomers = {
            "chemist": ("+79000000040", None, "Лебедева", "Ксения", "Игоревна", "f", "1990-10-10"),
            "pupil": (None, "polina@example.org", "Белова", "Полина", "Сергеевна", "f", "2012-03-03"),
        }
        for key, (phone, email, last, first, patronymic, gender, born) in newcomers.items():
            users[key] = User.create(
                phone=phone, email=email, password_hash=password_hash, last_name=last,
                first_name=first, patronymic=patronymic, gender=gender,
                birth_date=dt.date.fromisoformat(born),
            )
        JoinRequest.create(
            user=users["chemist"], school=school, role=Membership.TEACHER, school_class=c7,
            subjects="Химия",
        )
        JoinRequest.create(user=users["pupil"], school=school, role=Membership.STUDENT, school_class=c7)
        parents.do_create_invitation(users["student2"])
        SchoolApplication.create(
            full_name="Муниципальное бюджетное общеобразовательное учреждение «Средняя школа №7»",
            short_name="Школа №7", region="Псковская область", city="Великие Луки",
            admin_name="Лебедева Анна Сергеевна", admin_phone="+79000000030",
            admin_email="school7@example.org",
        )
        SchoolApplication.create(
            full_name="Частная школа «Радуга»", short_name="Радуга", region="Москва",
            city="Москва", admin_name="Зайцев Олег Ильич", admin_phone="+79000000031",
            admin_email="raduga@example.org", status=SchoolApplication.REJECTED,
            reason="Не указан полный адрес организации: пришлите заявку ещё раз.",
            decided_at=utcnow(),
        )
    roster_import.do_import_roster(school, _demo_roster_zip())
    load_showcase_chats(users, school, c7)
    from db.demo_articles import load_showcase_articles

    load_showcase_articles(users, school)
    from db.demo_documents import load_showcase_documents
    from db.demo_help import load_showcase_help

    load_showcase_documents(users, school)

    load_showcase_help(users, school)


def load_showcase_chats(users, school, c7):
    """A class chat with a conversation, an announcement and a poll; a personal chat."""
    from blueprints.chats import actions
    from db.models import Chat, Message, PollOption

    def say(chat, key, body, **kwargs):
        return actions.do_send_message(users[key], chat, uuid.uuid4().hex, body, **kwargs)[0]

    chat = actions.do_create_chat(
        users["teacher"], school, "7А — Математика",
        {users["student"].id, users["student2"].id}, kind=Chat.CLASS, school_class=c7,
    )
    actions.do_join(users["teacher2"], chat)
    say(chat, "teacher", "Добрый день, 7А! Здесь будут домашние задания и объявления по математике.")
    say(chat, "student", "Здравствуйте, Яна Михайловна!")
    question = say(chat, "student2", "Здравствуйте! А учебник нужен на каждый урок?")
    say(chat, "teacher", "Да, и тетрадь для самостоятельных.", reply_to_id=question.id)
    say(
        chat, "teacher",
        "Домашнее задание на четверг: № 214, 215, 218. Разбор задач — "
        "https://example.org/algebra/7/linear-equations",
    )
    say(chat, "teacher", "В пятницу контрольная по теме «Линейные уравнения».", kind=Message.ANNOUNCEMENT)
    from blueprints.chats import polls

    poll_message, _ = polls.do_create_poll(
        users["teacher"], chat, uuid.uuid4().hex, "Когда удобнее провести консультацию перед контрольной?",
        ["Среда, 15:00", "Четверг, 14:30", "Пятница, 8:00"], retractable=True,
    )
    poll = poll_message.polls.get()
    first, second = list(poll.options.order_by(PollOption.position))[:2]
    polls.do_vote(users["student"], chat, poll, [first.id])
    polls.do_vote(users["student2"], chat, poll, [second.id])
    personal = actions.do_open_personal_chat(users["parent"], users["teacher"], school)
    say(personal, "parent", "Яна Михайловна, добрый вечер! Маша завтра будет после обеда: к врачу.")
    say(personal, "teacher", "Спасибо, что предупредили. Задание она найдёт в чате класса.")


def _demo_roster_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((Path(__file__).parent / "demo_roster").glob("*.csv")):
            archive.writestr(path.name, path.read_text(encoding="utf-8"))
    return buffer.getvalue()


def print_sign_ins(echo, host, port):
    echo(f"\nParta: http://{host}:{port}/")
    echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for key, phone, email, last, first, *_rest in PEOPLE:
        echo(f"  {phone or email:<20} {first} {last} — {ROLE_NAMES[key]}")
    echo("")
