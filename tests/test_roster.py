"""The e-diary roster: a OneRoster 1.1 zip imported by a school's administrator (SPEC §3)."""
import io
import re
import zipfile
from pathlib import Path

import pytest

from conftest import ROLES, csrf_token, gymnasium, post_form
from db.models import Membership, ParentLink, RosterPerson, SchoolClass, User

FIXTURE = Path(__file__).parent / "fixtures" / "roster" / "gymnasium"
PROFILE = {
    "last_name": "Сидоров",
    "first_name": "Пётр",
    "patronymic": "Андреевич",
    "gender": "m",
    "birth_date": "2012-03-04",
}


def roster_files():
    return {path.name: path.read_text(encoding="utf-8") for path in FIXTURE.glob("*.csv")}


def make_zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def replace_line(text, number, old, new):
    lines = text.splitlines()
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "\n".join(lines) + "\n"


def url(school=None):
    return f"/schools/{(school or gymnasium()).id}/roster"


def upload(client, data, name="roster.zip"):
    return post_form(client, url(), {"roster": (io.BytesIO(data), name)}, follow_redirects=True)


def snapshot():
    return (
        [(c.name, c.sourced_id) for c in SchoolClass.select().order_by(SchoolClass.id)],
        [(p.sourced_id, p.phone, p.class_sourced_ids) for p in RosterPerson.select().order_by(RosterPerson.id)],
        Membership.select().count(),
        ParentLink.select().count(),
    )


def sign_up_by_phone(client, sms_gateway, phone, profile=PROFILE):
    assert post_form(client, "/auth/signup", {"identifier": phone}).headers["Location"] == "/auth/code"
    code = sms_gateway.last_code(phone)
    assert post_form(client, "/auth/code", {"code": code}).headers["Location"] == "/auth/password"
    password = "correct horse 1"
    post_form(client, "/auth/password", {"password": password, "confirmation": password})
    post_form(client, "/auth/about-you", profile)
    return User.get(User.phone == phone)


# Access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [
        ("anonymous", 302),
        ("student", 403),
        ("parent", 403),
        ("teacher", 403),
        ("other_class_teacher", 403),
        ("other_school_admin", 404),
        ("admin", 200),
        ("operator", 404),
    ],
)
def test_only_the_school_administrator_opens_the_roster_page(signed_in, role, status):
    assert tuple(r for r in ROLES) and role in ROLES
    response = signed_in(role).get(url())
    assert response.status_code == status
    if status == 200:
        assert "не больше 5 МБ" in response.get_data(as_text=True)
    if role == "anonymous":
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "role, status",
    [("student", 403), ("teacher", 403), ("other_school_admin", 404), ("operator", 404)],
)
def test_nobody_but_the_administrator_can_import(signed_in, role, status):
    client = signed_in(role)
    before = snapshot()
    data = {"roster": (io.BytesIO(make_zip(roster_files())), "r.zip")}
    response = post_form(client, url(), data, page="/profile/edit")
    assert response.status_code == status
    assert snapshot() == before


def test_anonymous_import_goes_to_sign_in(signed_in):
    response = signed_in("anonymous").post(url(), data={})
    assert response.status_code in (302, 400)


# A valid import -------------------------------------------------------------------------


def test_valid_import_creates_classes_and_roster_people(signed_in):
    admin = signed_in("admin")
    page = upload(admin, make_zip(roster_files())).get_data(as_text=True)
    assert "Список импортирован" in page
    school = gymnasium()
    c7 = SchoolClass.get((SchoolClass.school == school) & (SchoolClass.name == "7А"))
    c8 = SchoolClass.get((SchoolClass.school == school) & (SchoolClass.name == "8Б"))
    assert (c7.sourced_id, c8.sourced_id) == ("cls-7a", "cls-8b")  # 7А adopted, not duplicated
    people = {p.sourced_id: p for p in RosterPerson.select()}
    assert set(people) == {"stu-1", "par-1", "tea-1", "stu-2", "stu-3"}
    assert people["stu-1"].phone == "+79001112233" and people["stu-1"].agent_sourced_ids == "par-1"
    assert people["par-1"].role == Membership.PARENT and people["par-1"].phone == "+79001112244"
    assert people["tea-1"].email == "kotova@example.org"
    assert people["tea-1"].class_sourced_ids == "cls-8b,cls-7a"
    # Николай (kolya@example.org) is already on Parta: he joins 8Б at once.
    kolya = User.get(User.email == "kolya@example.org")
    assert people["stu-3"].user_id == kolya.id
    assert Membership.get_or_none(user=kolya, role=Membership.STUDENT, school_class=c8)
    assert "Классов создано" in page and "Сразу присоединились" in page
    assert page.count("<dd>1</dd>") >= 3  # one class created, one updated, one joined now


def test_person_from_the_roster_signs_up_and_is_in_their_class_at_once(app, signed_in, sms_gateway):
    upload(signed_in("admin"), make_zip(roster_files()))
    newcomer = app.test_client()
    user = sign_up_by_phone(newcomer, sms_gateway, "+79001112233")
    c8 = SchoolClass.get(SchoolClass.name == "8Б")
    assert Membership.get(user=user, role=Membership.STUDENT).school_class_id == c8.id
    assert RosterPerson.get(RosterPerson.sourced_id == "stu-1").user_id == user.id
    from db.models import JoinRequest

    assert JoinRequest.select().where(JoinRequest.user == user).count() == 0
    page = newcomer.get(f"/schools/{gymnasium().id}").get_data(as_text=True)
    assert "Гимназия №1" in page


@pytest.mark.parametrize("first", ["child", "parent"])
def test_parent_and_child_from_the_roster_are_linked_whoever_comes_first(app, signed_in, sms_gateway, first):
    upload(signed_in("admin"), make_zip(roster_files()))
    phones = {"child": "+79001112233", "parent": "+79001112244"}
    order = [first, "parent" if first == "child" else "child"]
    users = {}
    for who in order:
        profile = dict(PROFILE, first_name="Светлана", gender="f") if who == "parent" else PROFILE
        users[who] = sign_up_by_phone(app.test_client(), sms_gateway, phones[who], profile)
    link = ParentLink.get(parent=users["parent"], child=users["child"])
    assert link.confirmed_at is not None
    assert Membership.get(user=users["parent"]).role == Membership.PARENT


def test_reimport_updates_without_duplicating(signed_in):
    admin = signed_in("admin")
    upload(admin, make_zip(roster_files()))
    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 5, "Морозова", "Морозова-Ильина")
    files["users.csv"] = "\n".join(
        line for line in files["users.csv"].splitlines() if not line.startswith("stu-3,")
    ) + "\n"
    files["enrollments.csv"] = files["enrollments.csv"].replace("enr-5,,,cls-8b,org-1,stu-3,student,false,2026-09-01,\n", "")
    files["classes.csv"] = replace_line(files["classes.csv"], 3, "8 класс Б", "8 класс Б (профильный)")
    page = upload(admin, make_zip(files)).get_data(as_text=True)
    assert "Список импортирован" in page
    assert RosterPerson.select().count() == 5
    assert SchoolClass.select().where(SchoolClass.school == gymnasium()).count() == 3
    assert RosterPerson.get(RosterPerson.sourced_id == "stu-2").family_name == "Морозова-Ильина"
    kolya = User.get(User.email == "kolya@example.org")
    c8 = SchoolClass.get(SchoolClass.name == "8Б")
    assert Membership.get_or_none(user=kolya, school_class=c8), "people missing from the file keep memberships"
    assert "сохраняют свои классы" in page
    assert "Людей обновлено" in page


def test_reimport_joins_an_existing_member_to_a_new_class(signed_in):
    admin = signed_in("admin")
    upload(admin, make_zip(roster_files()))
    files = roster_files()
    files["enrollments.csv"] += "enr-6,,,cls-7a,org-1,stu-3,student,false,2026-09-01,\n"
    upload(admin, make_zip(files))
    kolya = User.get(User.email == "kolya@example.org")
    c7 = SchoolClass.get(SchoolClass.name == "7А")
    assert Membership.select().where((Membership.user == kolya) & (Membership.school_class == c7)).count() == 1


# Refusals -------------------------------------------------------------------------------


def refused(signed_in, data, *expected, name="roster.zip"):
    admin = signed_in("admin")
    before = snapshot()
    response = upload(admin, data, name=name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in expected:
        assert text in page, text
    assert "Список импортирован" not in page
    assert snapshot() == before
    assert RosterPerson.select().count() == 0


def test_missing_column_is_refused_naming_the_file_and_column(signed_in):
    files = roster_files()
    files["users.csv"] = files["users.csv"].replace(",familyName,", ",surname,", 1)
    refused(signed_in, make_zip(files), "users.csv", "нет столбца «familyName»")


def test_bad_phone_on_line_3_is_refused_with_line_and_column(signed_in):
    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 3, "8 (900) 111-22-44", "12345")
    refused(signed_in, make_zip(files), "users.csv, строка 3, столбец «phone»", "Номер мобильного телефона указан неверно")


def test_enrollment_for_an_unknown_class_is_refused(signed_in):
    files = roster_files()
    files["enrollments.csv"] += "enr-9,,,cls-9z,org-1,stu-2,student,false,,\n"
    refused(signed_in, make_zip(files), "enrollments.csv, строка 7, столбец «classSourcedId»", "cls-9z")


def test_unknown_role_and_bad_email_are_refused(signed_in):
    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 4, ",teacher,", ",janitor,")
    refused(signed_in, make_zip(files), "users.csv, строка 4, столбец «role»", "janitor")
    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 5, "lena@example.org", "lena@")
    refused(signed_in, make_zip(files), "users.csv, строка 5, столбец «email»")


def test_same_phone_for_two_people_is_refused(signed_in):
    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 3, "8 (900) 111-22-44", "+7 900 111-22-33")
    refused(signed_in, make_zip(files), "users.csv, строка 3, столбец «phone»", "строке 2")


def test_a_file_that_is_not_a_zip_is_refused(signed_in):
    refused(signed_in, "sourcedId,role\n".encode(), "не zip-архив", name="users.csv")


def test_a_zip_without_users_csv_is_refused(signed_in):
    files = roster_files()
    del files["users.csv"]
    refused(signed_in, make_zip(files), "нет файла users.csv")


def test_a_file_over_5_mb_is_refused(signed_in):
    files = roster_files()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("padding.bin", bytes(5 * 1024 * 1024))
    refused(signed_in, buffer.getvalue(), "больше 5 МБ")


def test_no_file_chosen_is_refused(signed_in):
    admin = signed_in("admin")
    page = post_form(admin, url(), {}).get_data(as_text=True)
    assert "Выберите файл .zip" in page


def test_a_damaged_zip_is_refused(signed_in):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in roster_files().items():
            archive.writestr(name, text.encode("utf-8"))
    data = bytearray(buffer.getvalue())
    start = data.index("Сидоров".encode())  # the CRC of users.csv no longer matches
    data[start:start + 4] = b"XXXX"
    refused(signed_in, bytes(data), "повреждён")


def test_a_csv_not_in_utf8_is_refused(signed_in):
    files = {name: text for name, text in roster_files().items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("cp1251" if name == "users.csv" else "utf-8"))
    refused(signed_in, buffer.getvalue(), "users.csv не в кодировке UTF-8")


# With static/js/upload.js: the file goes with a progress bar, and the script reads the answer.


def test_the_script_path_gets_where_to_go_on_success_and_the_reason_on_refusal(signed_in):
    admin = signed_in("admin")
    token = csrf_token(admin, url())
    sent = admin.post(url(), data={"csrf_token": token, "roster": (io.BytesIO(make_zip(roster_files())), "r.zip")},
                      headers={"X-Upload": "progress"}, content_type="multipart/form-data")
    assert sent.status_code == 200 and sent.get_json() == {"next": url()}
    assert "Список импортирован" in admin.get(url()).get_data(as_text=True)  # the flash waits for the page

    files = roster_files()
    files["users.csv"] = replace_line(files["users.csv"], 3, "8 (900) 111-22-44", "12345")
    before = snapshot()
    refused_by_script = admin.post(url(), data={"csrf_token": token, "roster": (io.BytesIO(make_zip(files)), "r.zip")},
                                   headers={"X-Upload": "progress"}, content_type="multipart/form-data")
    assert refused_by_script.status_code == 422
    error = re.search(r'<p id="upload-error" class="error" role="alert">([^<]+)</p>', refused_by_script.get_data(as_text=True))
    assert error and "users.csv, строка 3, столбец «phone»" in error.group(1)
    assert snapshot() == before

    nothing = admin.post(url(), data={"csrf_token": token}, headers={"X-Upload": "progress"},
                         content_type="multipart/form-data")
    assert nothing.status_code == 422 and "Выберите файл .zip" in nothing.get_data(as_text=True)
