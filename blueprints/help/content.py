"""The help centre's answers: versioned data files in content/, one per language.

Each ``content/<locale>.toml`` lists sections (``[[section]]``: slug, title) and their answers
(``[[section.answer]]``: slug, title, body). A body is plain text: paragraphs separated by a
blank line, lines starting «- » make a list, lines starting «1. » a numbered list.
"""
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from flask_babel import get_locale
from markupsafe import Markup, escape

CONTENT = Path(__file__).resolve().parent / "content"
DEFAULT_LOCALE = "ru"
BULLET = re.compile(r"^- ")
NUMBERED = re.compile(r"^\d+\. ")
WORD = re.compile(r"\w+")


class Answer(NamedTuple):
    slug: str
    title: str
    body: str
    section: "Section"

    @property
    def html(self):
        return render_body(self.body)


class Section(NamedTuple):
    slug: str
    title: str
    answers: list


@lru_cache(maxsize=None)
def load(locale):
    """The sections of ``locale`` (Russian when there is no file for it), in file order."""
    path = CONTENT / f"{locale}.toml"
    if not path.exists():
        path = CONTENT / f"{DEFAULT_LOCALE}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sections = []
    for raw in data["section"]:
        section = Section(raw["slug"], raw["title"], [])
        section.answers.extend(
            Answer(a["slug"], a["title"], a["body"].strip(), section) for a in raw["answer"]
        )
        sections.append(section)
    return tuple(sections)


def sections():
    return load(str(get_locale() or DEFAULT_LOCALE))


def section(slug):
    return next((s for s in sections() if s.slug == slug), None)


def fold(text):
    """Lower case for matching: Russian «Ё» and «ё» match «е», as people type them."""
    return text.casefold().replace("ё", "е")


def search(query):
    """Answers whose title or text holds every word of ``query`` (any case); titles first."""
    words = [fold(w) for w in WORD.findall(query)]
    if not words:
        return []
    in_title, in_body = [], []
    for each in sections():
        for answer in each.answers:
            title, body = fold(answer.title), fold(answer.body)
            if all(w in title for w in words):
                in_title.append(answer)
            elif all(w in title or w in body for w in words):
                in_body.append(answer)
    return in_title + in_body


def render_body(body):
    """The answer's text as escaped HTML: paragraphs and lists, nothing else."""
    blocks = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if all(BULLET.match(line) for line in lines):
            items = "".join(f"<li>{escape(BULLET.sub('', line))}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        elif all(NUMBERED.match(line) for line in lines):
            items = "".join(f"<li>{escape(NUMBERED.sub('', line))}</li>" for line in lines)
            blocks.append(f"<ol>{items}</ol>")
        else:
            blocks.append(f"<p>{escape(' '.join(lines))}</p>")
    return Markup("".join(blocks))
