"""Translations: every string in the source has a Russian translation, and plurals work.

This module uses no conftest fixtures: it reads the sources and the catalogs in
translations/ directly, compiles the catalogs if their .mo files are missing or
older than the .po files (a fresh clone has none: they are gitignored), and builds
its own app for the Flask-Babel checks.
"""
import datetime as dt
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
MAPPING = TRANSLATIONS / "babel.cfg"
LOCALES = ("ru", "en")

# The keywords of `pybabel extract -k _l -k lazy_gettext` (see translations/babel.cfg):
# Babel's defaults (_, gettext, ngettext, ...) plus the lazy ones.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

PARTICIPANTS = ("%(num)d participant", "%(num)d participants")  # templates/schools/school.html


def _po_path(locale):
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read_catalog(locale):
    with _po_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def compile_catalogs():
    """What `pybabel compile -d translations` does, for any .mo missing or stale."""
    for locale in LOCALES:
        po = _po_path(locale)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = _read_catalog(locale)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        tmp.replace(mo)


def extract_messages():
    """{(msgid, context): (msgid or (singular, plural), [where])} from the source tree."""
    with MAPPING.open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(MAPPING))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        key = message[0] if isinstance(message, tuple) else message
        if not key:
            continue
        entry = found.setdefault((key, context), (message, []))
        entry[1].append(f"{filename}:{lineno}")
    return found


def _translated(string):
    if isinstance(string, (tuple, list)):
        return bool(string) and all(s and s.strip() for s in string)
    return bool(string and string.strip())


@pytest.fixture(scope="module")
def extracted():
    messages = extract_messages()
    assert messages, "nothing was extracted: check translations/babel.cfg"
    return messages


def test_extraction_reads_only_the_project(extracted):
    files = {where.split(":")[0] for _msg, wheres in extracted.values() for where in wheres}
    assert not [f for f in files if "site-packages" in f or f.startswith(".")], files
    assert any(f.startswith("templates/") for f in files)
    assert any(f.startswith("blueprints/") for f in files)
    assert "app.py" in files


def test_every_string_is_translated_into_russian(extracted):
    catalog = _read_catalog("ru")
    problems = []
    for (key, context), (message, wheres) in sorted(extracted.items(), key=lambda i: i[0][0]):
        where = ", ".join(wheres[:3])
        entry = catalog.get(key, context=context)
        if entry is None:
            problems.append(f"missing: {message!r} ({where})")
        elif isinstance(message, tuple) != entry.pluralizable:
            problems.append(f"plural form differs from the source: {key!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {key!r} ({where})")
        elif not _translated(entry.string):
            problems.append(f"untranslated: {key!r} ({where})")
        elif entry.pluralizable and len(entry.string) != catalog.num_plurals:
            problems.append(f"needs {catalog.num_plurals} plural forms: {key!r} ({where})")
    assert not problems, (
        "Russian catalog is behind the source; run pybabel extract/update (see "
        "translations/babel.cfg) and translate:\n  " + "\n  ".join(problems)
    )


def test_russian_catalog_is_well_formed():
    catalog = _read_catalog("ru")
    assert catalog.num_plurals == 3
    assert catalog.plural_expr == (
        "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"
    )
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in the Russian catalog: {fuzzy}"
    # Placeholders such as %(num)d must survive translation.
    errors = [f"{m.id!r}: {'; '.join(map(str, errs))}" for m, errs in catalog.check()]
    assert not errors, "format errors in the Russian catalog:\n  " + "\n  ".join(errors)


def test_english_catalog_plural_rule():
    catalog = _read_catalog("en")
    assert catalog.num_plurals == 2
    assert catalog.plural_expr == "(n != 1)"


@pytest.fixture
def app(tmp_path):
    compile_catalogs()
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
            "INSTANCE_PATH": str(tmp_path),
            "ASYNC_MODE": "threading",
        }
    )


@pytest.mark.parametrize(
    "n, expected",
    [
        (1, "1 участник"),
        (2, "2 участника"),
        (4, "4 участника"),
        (5, "5 участников"),
        (11, "11 участников"),
        (12, "12 участников"),
        (21, "21 участник"),
        (22, "22 участника"),
        (25, "25 участников"),
        (111, "111 участников"),
    ],
)
def test_russian_plurals(app, n, expected):
    with app.test_request_context(), flask_babel.force_locale("ru"):
        assert flask_babel.ngettext(*PARTICIPANTS, n) == expected


def test_english_plurals(app):
    with app.test_request_context(), flask_babel.force_locale("en"):
        assert flask_babel.ngettext(*PARTICIPANTS, 1) == "1 participant"
        assert flask_babel.ngettext(*PARTICIPANTS, 2) == "2 participants"


def test_russian_is_the_default_locale(app):
    with app.test_request_context():
        assert str(flask_babel.get_locale()) == "ru"
        assert flask_babel.gettext("Sign in") == "Войти"


def test_russian_dates(app):
    with app.test_request_context(), flask_babel.force_locale("ru"):
        assert "июля" in flask_babel.format_date(dt.date(2026, 7, 22), "long")
        assert "июля" in flask_babel.format_date(dt.date(2026, 7, 22), "d MMMM y")


def test_russian_plural_in_a_template(app):
    from flask import render_template_string

    source = '{{ ngettext("%(num)d participant", "%(num)d participants", n) }}'
    with app.test_request_context(), flask_babel.force_locale("ru"):
        assert render_template_string(source, n=5) == "5 участников"
        assert render_template_string(source, n=21) == "21 участник"


def test_lazy_messages_with_typed_values_are_escaped_in_pages():
    """A refusal that quotes what a person typed must not turn it into markup."""
    from flask import render_template_string
    from flask_babel import lazy_gettext

    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        message = lazy_gettext("«%(name)s» is empty.", name="<img src=x onerror=alert(1)>")
        html = render_template_string("{{ message }}", message=message)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
