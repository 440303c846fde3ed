"""Demo support questions, appeals to the school and feedback, for `make run` (not for tests)."""
import io

from PIL import Image, ImageDraw
from werkzeug.datastructures import FileStorage

from blueprints.appeals import actions as appeals
from blueprints.help import actions as help
from db.models import Feedback


def _screenshot():
    """A small picture of a page with an error, as a phone would capture it."""
    image = Image.new("RGB", (390, 300), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 390, 44), fill=(255, 255, 255), outline=(220, 224, 230))
    draw.text((14, 14), "Parta", fill=(29, 36, 48))
    draw.rectangle((20, 110, 370, 190), fill=(251, 234, 234), outline=(239, 195, 192))
    draw.text((36, 140), "502 Bad Gateway", fill=(176, 32, 32))
    out = io.BytesIO()
    image.save(out, "PNG")
    return FileStorage(io.BytesIO(out.getvalue()), filename="ошибка-чата.png")


def load_showcase_help(users, school):
    shots = help.check_screenshots([_screenshot()])
    question, _ = help.do_ask(
        users["student"],
        "Не открывается чат класса",
        "Вчера вечером чат «7А — Математика» не открывался: вместо сообщений была ошибка.",
        "1. Открыла «Сообщения».\n2. Нажала на чат «7А — Математика».\n3. Появилась страница с ошибкой.",
        "messages",
        shots,
    )
    help.do_reply(
        question,
        users["operator"],
        "Здравствуйте, Мария! Вчера с 21:00 до 21:15 сервер перезапускался после обновления. "
        "Сейчас всё работает — откройте чат ещё раз. Если ошибка повторится, напишите сюда.",
        [],
        from_support=True,
    )
    help.do_ask(
        users["parent"],
        "Не приходит SMS с кодом",
        "Пытаюсь войти с нового телефона, код не приходит уже 10 минут.",
        "Ввела номер, нажала «Получить код», потом «Отправить код ещё раз».",
        "accounts",
        [],
    )
    help.do_ask(
        None,
        "Как подключить нашу школу?",
        "Мы хотим подключить школу к Парте. Что для этого нужно?",
        "",
        "school",
        [],
        email="director.school7@example.org",
    )

    appeal = appeals.do_appeal(
        users["parent"],
        school,
        "Экскурсия 7А в музей",
        "Добрый день! Подскажите, пожалуйста, когда будет экскурсия и нужно ли сдавать деньги на билеты?",
    )
    appeals.do_reply(
        appeal,
        users["admin"],
        "Здравствуйте, Ольга Петровна! Экскурсия запланирована на 14 декабря, билеты оплачивает школа.",
    )
    appeals.do_appeal(
        users["student"],
        school,
        "Кружок робототехники",
        "Будет ли в этом году кружок робототехники для 7-х классов?",
    )
    Feedback.create(
        user=users["teacher"],
        text="Было бы удобно видеть в чате класса, кто из учеников ещё не прочитал домашнее задание.",
    )
