"""Demo school documents and «Мои документы»: folders of timetables, orders and a teaching
library, as a school keeps them. Called from ``db.demo.load_showcase`` inside the app context
(files are stored under the instance's uploads folder, like real uploads)."""
import io

from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from werkzeug.datastructures import FileStorage

from blueprints.documents import actions
from blueprints.documents.access import Place

BELLS = """Расписание звонков на 2026/2027 учебный год

1 урок  08:30 – 09:15   перемена 10 минут
2 урок  09:25 – 10:10   перемена 20 минут (завтрак 5–7 классов)
3 урок  10:30 – 11:15   перемена 20 минут (завтрак 8–11 классов)
4 урок  11:35 – 12:20   перемена 10 минут
5 урок  12:30 – 13:15   перемена 10 минут
6 урок  13:25 – 14:10   перемена 10 минут
7 урок  14:20 – 15:05

В субботу уроки сокращены до 40 минут, перемены — 10 минут.
"""

ORDER = """ПРИКАЗ № 112-о
«О режиме работы гимназии в 2026/2027 учебном году»

В целях организованного начала учебного года
ПРИКАЗЫВАЮ:
1. Установить начало учебных занятий 1 сентября 2026 года.
2. Установить пятидневную учебную неделю для 1–9 классов и шестидневную для 10–11 классов.
3. Начало первого урока — 08:30. Вход в здание с 07:45 по электронным пропускам.
4. Классным руководителям 1 сентября провести классные часы «Разговоры о важном».
5. Контроль за исполнением приказа оставляю за собой.

Директор гимназии                                   И. А. Чередин
"""

PARENTS_MEMO = """Памятка для родителей

• Все объявления школы публикуются в «Парте»: в чате класса и в разделе «Документы школы».
• Если ребёнок заболел, до 8:15 напишите классному руководителю в личные сообщения.
• Справку после болезни передайте классному руководителю в первый день занятий.
• Вопросы администрации задавайте в разделе «Обращения в школу».
• Телефон вахты: +7 (495) 000-00-00, с 07:30 до 20:00.
"""

LESSON_NOTES = """Конспект урока: сложение дробей с разными знаменателями (6 класс)

Цель: научиться приводить дроби к общему знаменателю и складывать их.

1. Повторение (5 мин): основное свойство дроби, НОК чисел.
2. Новый материал (15 мин): 1/2 + 1/3 = 3/6 + 2/6 = 5/6.
3. Работа у доски (10 мин): № 412, 415.
4. Самостоятельная работа (10 мин): два варианта по 4 примера.
5. Домашнее задание: № 418, 420, повторить правило.
"""


def _text(content):
    return content.encode("utf-8")


def _multiplication_table():
    """A 10×10 multiplication table as a PNG (digits only: the built-in font has them)."""
    cell, size = 56, 11
    image = Image.new("RGB", (cell * size, cell * size), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    for row in range(size):
        for col in range(size):
            box = (col * cell, row * cell, (col + 1) * cell, (row + 1) * cell)
            header = row == 0 or col == 0
            draw.rectangle(box, fill="#dfe8f7" if header else "white", outline="#8aa0c4")
            if row == col == 0:  # «×», drawn: the built-in font has no such glyph
                draw.line((18, 18, cell - 18, cell - 18), fill="#1d2b44", width=3)
                draw.line((18, cell - 18, cell - 18, 18), fill="#1d2b44", width=3)
                continue
            value = str(row * col if not header else row or col)
            draw.text((box[0] + cell / 2, box[1] + cell / 2), value, fill="#1d2b44", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _evacuation_plan():
    """A floor plan with exits marked, saved as a one-page PDF."""
    image = Image.new("RGB", (1240, 877), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 1180, 817), outline="black", width=8)
    for x in range(60, 1180, 160):  # classrooms along both walls
        draw.rectangle((x, 60, x + 160, 330), outline="black", width=4)
        draw.rectangle((x, 547, x + 160, 817), outline="black", width=4)
    draw.rectangle((60, 330, 1180, 547), fill="#f3f3f3")  # the corridor
    for x in (140, 620, 1100):  # the way out, in green arrows
        draw.line((x, 438, x + (60 if x < 620 else -60), 438), fill="#1a8f3a", width=14)
    for door in ((30, 400, 60, 476), (1180, 400, 1210, 476)):
        draw.rectangle(door, fill="#1a8f3a")
    out = io.BytesIO()
    image.save(out, "PDF", resolution=150)
    return out.getvalue()


def _put(place, folder, user, name, data):
    uploads = actions.check_documents(place, [FileStorage(io.BytesIO(data), name)])
    actions.do_upload(place, folder, uploads, user)


def load_showcase_documents(users, school):
    """The gymnasium's documents (uploaded by its administrator and a teacher) and Яна's own."""
    # The checker's messages are translated for a request's language: a request it gets.
    with current_app.test_request_context():
        _load(users, school)


def _load(users, school):
    admin, teacher = users["admin"], users["teacher"]
    place = Place(school, None, True)
    timetables = actions.do_create_folder(place, None, "Расписание")
    orders = actions.do_create_folder(place, None, "Приказы")
    library = actions.do_create_folder(place, None, "Методическая библиотека")
    maths = actions.do_create_folder(place, library, "Математика")
    _put(place, timetables, admin, "Расписание звонков.txt", _text(BELLS))
    _put(place, orders, admin, "Приказ № 112-о о режиме работы.txt", _text(ORDER))
    _put(place, None, admin, "План эвакуации, 1 этаж.pdf", _evacuation_plan())
    _put(place, None, admin, "Памятка для родителей.txt", _text(PARENTS_MEMO))
    _put(place, maths, teacher, "Таблица умножения.png", _multiplication_table())

    own = Place(None, teacher, True)
    notes = actions.do_create_folder(own, None, "Конспекты уроков")
    _put(own, notes, teacher, "Дроби — конспект урока.txt", _text(LESSON_NOTES))
