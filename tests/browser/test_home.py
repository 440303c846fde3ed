"""The home page on a phone: the first page after sign-in, nothing wider than the screen,
and its class links lead to the class pages."""
import re

from playwright.sync_api import expect

from .flows import screenshot, sign_in

TEACHER = "+79000000002"  # Яна: teaches 7А (its class teacher) and 11А
PARENT = "+79000000010"  # Ольга: Мария in 7А of «Гимназия №1», Дмитрий in 5Б of «Лицей №2»


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_teacher_lands_on_her_desktop_and_opens_a_class(page, live_server, demo_people):
    sign_in(page, TEACHER)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="Мои классы")).to_be_visible()
    assert page_width(page) <= 390
    screenshot(page, "home-teacher.png")
    # The tile, not its camera («Позвонить 7А», there once 7А has a chat).
    page.locator("#home-taught").get_by_role("link", name=re.compile(r"^7А")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Класс 7А")


def test_a_parent_sees_both_children_and_opens_a_class_in_another_school(page, live_server, demo_people):
    sign_in(page, PARENT)
    children = page.locator("#home-children")
    expect(children).to_contain_text("Иванова Мария Олеговна")
    expect(children).to_contain_text("Иванов Дмитрий Олегович")
    assert page_width(page) <= 390
    screenshot(page, "home-parent.png")
    children.get_by_role("link", name="Класс 5Б").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Класс 5Б")
    expect(page.locator("main")).to_contain_text("Лицей №2")
