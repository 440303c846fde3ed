"""The school page, participants, role correction and leaders (SPEC §2)."""
import pytest

from conftest import ROLES, gymnasium, post_form
from db.models import Membership, User

MEMBERS = {"student", "parent", "teacher", "other_class_teacher", "admin"}


def membership_of(phone_or_email, role):
    user = User.by_identifier(phone_or_email)
    return Membership.get((Membership.user == user) & (Membership.role == role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["school", "participants", "leaders"])
def test_school_pages_are_for_members_only(signed_in, role, page):
    client = signed_in(role)
    school = gymnasium()
    path = {
        "school": f"/schools/{school.id}",
        "participants": f"/schools/{school.id}/participants",
        "leaders": f"/schools/{school.id}/leaders",
    }[page]
    response = client.get(path)
    if role == "anonymous":
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    elif role in MEMBERS:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_schools_administrator_corrects_roles(signed_in, role):
    client = signed_in(role)
    school = gymnasium()
    target = membership_of("kolya@example.org", Membership.STUDENT)
    response = post_form(
        client,
        f"/schools/{school.id}/participants/{target.id}/role",
        {"role": "teacher"},
        page="/" if role in ("anonymous", "other_school_admin", "operator") else f"/schools/{school.id}",
    )
    changed = Membership.get_by_id(target.id).role == "teacher"
    if role == "admin":
        assert response.status_code == 303 and changed
    else:
        assert response.status_code in (302, 403, 404) and not changed
        if role in MEMBERS - {"admin"}:
            assert response.status_code == 403
        elif role != "anonymous":
            assert response.status_code == 404


def test_role_correction_shows_on_the_school_page(signed_in):
    client = signed_in("admin")
    school = gymnasium()
    target = membership_of("kolya@example.org", Membership.STUDENT)
    post_form(client, f"/schools/{school.id}/participants/{target.id}/role", {"role": "teacher"}, page=f"/schools/{school.id}/participants")
    page = client.get(f"/schools/{school.id}").get_data(as_text=True)
    teachers = page.split("Учителя")[1].split("Ученики")[0]
    assert "Петров Николай Ильич" in teachers


def test_the_last_administrator_cannot_lose_the_role(signed_in):
    client = signed_in("admin")
    school = gymnasium()
    own = membership_of("+79000000001", Membership.ADMIN)
    response = post_form(
        client,
        f"/schools/{school.id}/participants/{own.id}/role",
        {"role": "teacher"},
        page=f"/schools/{school.id}/participants",
        follow_redirects=True,
    )
    assert "хотя бы один администратор" in response.get_data(as_text=True)
    assert Membership.get_by_id(own.id).role == Membership.ADMIN


def test_an_unknown_role_is_refused(signed_in):
    client = signed_in("admin")
    school = gymnasium()
    target = membership_of("kolya@example.org", Membership.STUDENT)
    response = post_form(
        client,
        f"/schools/{school.id}/participants/{target.id}/role",
        {"role": "director"},
        page=f"/schools/{school.id}/participants",
        follow_redirects=True,
    )
    assert "Выберите одну из ролей" in response.get_data(as_text=True)
    assert Membership.get_by_id(target.id).role == Membership.STUDENT


def test_a_membership_of_another_school_is_404_for_this_schools_admin(signed_in):
    client = signed_in("admin")
    school = gymnasium()
    foreign = membership_of("dima@example.org", Membership.STUDENT)
    response = post_form(client, f"/schools/{school.id}/participants/{foreign.id}/role", {"role": "teacher"}, page="/")
    assert response.status_code == 404
    assert Membership.get_by_id(foreign.id).role == Membership.STUDENT


def test_leaders_are_named_by_administrators(signed_in):
    school = gymnasium()
    page = signed_in("student").get(f"/schools/{school.id}/leaders").get_data(as_text=True)
    assert "Директор" in page and "Чередин Илья Сергеевич" in page
    admin = signed_in("admin")
    teacher = membership_of("+79000000002", Membership.TEACHER)
    post_form(admin, f"/schools/{school.id}/leaders", {"membership": teacher.id, "position": "Завуч"})
    page = signed_in("parent").get(f"/schools/{school.id}/leaders").get_data(as_text=True)
    assert "Завуч" in page and "Рощина Яна Михайловна" in page
    refused = post_form(signed_in("teacher"), f"/schools/{school.id}/leaders", {"membership": teacher.id, "position": ""})
    assert refused.status_code == 403
    too_long = post_form(admin, f"/schools/{school.id}/leaders", {"membership": teacher.id, "position": "Я" * 129}, follow_redirects=True)
    assert "Не более 128 символов" in too_long.get_data(as_text=True)
    assert Membership.get_by_id(teacher.id).position == "Завуч"
