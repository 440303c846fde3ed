"""Demo articles of «Гимназия №1» (SPEC §9): school news, a worked exam task, and a draft."""
import datetime as dt
import io

from flask import current_app
from PIL import Image, ImageDraw

from blueprints.articles import actions
from blueprints.articles.actions import Draft
from blueprints.chats.files import check_file
from db import database
from db.models import Article

OLYMPIAD = """
<p>В октябре в гимназии прошёл школьный этап всероссийской олимпиады школьников. В нём участвовали
<strong>212 учеников</strong> с 5 по 11 класс — на сорок человек больше, чем в прошлом году.</p>
<h2>Победители и призёры</h2>
<ul>
<li>Математика: Мария Иванова (7А) — победитель, Николай Петров (7А) — призёр.</li>
<li>Физика: Артём Кузнецов (11А) — победитель.</li>
<li>Литература: Анна Смирнова (11А) — призёр.</li>
</ul>
<p>Работы проверяли учителя гимназии по критериям, которые прислал городской методический центр.
Результаты можно обсудить с учителем предмета до конца недели.</p>
<h2>Что дальше</h2>
<p>Победители и призёры, набравшие проходной балл, выходят на <em>муниципальный этап</em>. Он пройдёт
в ноябре; расписание появится в разделе «Документы школы».</p>
<blockquote>Спасибо всем, кто решился участвовать: олимпиада — это прежде всего опыт.</blockquote>
"""

OGE_TASK = """
<p>Разбираем задание, на котором в прошлом году потеряли баллы многие девятиклассники.</p>
<h2>Условие</h2>
<p>Постройте график функции <em>y = (x² + 4)(x − 1) / (1 − x)</em> и определите, при каких значениях
<em>m</em> прямая <em>y = m</em> не имеет с графиком общих точек.</p>
<h2>Решение</h2>
<ol>
<li>Область определения: <strong>x ≠ 1</strong>, иначе знаменатель обращается в ноль.</li>
<li>При x ≠ 1 дробь сокращается: y = −(x² + 4) = −x² − 4. Это парабола, ветви вниз, вершина (0; −4).</li>
<li>Из графика выкалываем точку с абсциссой 1: y(1) = −5, то есть точку (1; −5).</li>
<li>Прямая y = m не пересекает параболу при m &gt; −4, а при m = −5 проходит только через выколотую точку
и ещё через точку (−1; −5) — значит, одна общая точка остаётся.</li>
</ol>
<h2>Ответ</h2>
<p><strong>m &gt; −4.</strong></p>
<p>Частая ошибка — забыть выколотую точку или не проверить, что при m = −5 остаётся вторая точка
пересечения. Проверяйте себя подстановкой.</p>
"""

ALBUM = """
<p>Собираем выпускной альбом 11А. Нужны фотографии за все годы: линейки, походы, олимпиады, спектакли.</p>
<ul>
<li>Присылайте фотографии классному руководителю до 15 апреля.</li>
<li>Подпишите, кто на снимке и в каком году он сделан.</li>
</ul>
<p>Черновик: дополню, когда определимся с типографией.</p>
"""


def _cover(top, bottom, name):
    """A simple picture for a cover: a vertical gradient with soft circles."""
    width, height = 1200, 630
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for i, (x, y, r) in enumerate(((980, 140, 190), (170, 520, 240), (620, 330, 90))):
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 255, 255), width=6 + i * 2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return check_file(name, out.getvalue(), actions.MAX_PICTURE_SIZE)


def load_showcase_articles(users, school):
    """Two published articles with covers (one a worked exam task) and a class teacher's draft."""
    # The chats' file checker words its refusals in the reader's language, which needs a request.
    with current_app.test_request_context(), database.atomic():
        news = actions.do_save(users["admin"], school, Draft(
            "Итоги школьного этапа олимпиады", OLYMPIAD, True,
            cover=_cover((31, 95, 191), (120, 180, 240), "олимпиада.jpg"),
        ))
        task = actions.do_save(users["teacher"], school, Draft(
            "ОГЭ по математике: разбор задания 22", OGE_TASK, True,
            cover=_cover((30, 107, 53), (170, 220, 150), "огэ.jpg"),
        ))
        actions.do_save(users["teacher2"], school, Draft("Выпускной альбом 11А", ALBUM, False))
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        for article, days in ((news, 12), (task, 3)):
            Article.update(published_at=now - dt.timedelta(days=days)).where(Article.id == article.id).execute()
