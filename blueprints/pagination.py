"""Keyset pagination, the one way every growing list in Parta is paged.

The cursor is the id of the last row shown (``?after=<id>``). The server looks that row up
inside the same query, so the cursor carries no sort values of its own, cannot point into a
list the viewer may not see, and the next page is ``WHERE (keys) > (the row's keys)`` (or
``<`` for newest-first lists) ``ORDER BY keys LIMIT size + 1`` — never OFFSET, so a page
costs the same at the end of a list as at its start, and rows added meanwhile neither repeat
nor vanish.

Without JavaScript «Показать ещё» is a plain link to the next page; with htmx it fetches the
same URL with ``HX-Target: <list>-more`` and the answer is only the partial (the next rows
and a new link), swapped in place of the old link.
"""

from flask import abort, make_response, render_template, request
from peewee import Field, Tuple

CURSOR = "after"
MAX_ID_DIGITS = 18


def after_id(name=CURSOR):
    """The id in ``?after=``, or None for the first page; 400 for anything but a plain id."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        abort(400)
    return int(raw)


class Page(list):
    """One page of rows; ``next_after`` is the cursor of the following page (None at the end)."""

    next_after = None


def keyset_page(query, keys, id_field, after, size, descending=False):
    """Rows of ``query`` after the row with id ``after``, ordered by ``keys`` (ending in the id).

    ``keys`` must make a total order (the id last) of NOT NULL columns; they replace any order
    ``query`` has. An ``after`` that is not in the list (a row deleted meanwhile, or a made-up
    id) is refused with 400 rather than starting over and repeating the first page.
    """
    if after is not None:
        anchor = query.clone().select(*keys).where(id_field == after).tuples().first()
        if anchor is None:
            abort(400)
        # Stored form, so a datetime compares as the column holds it (text on SQLite).
        anchor = Tuple(*(k.db_value(v) if isinstance(k, Field) else v for k, v in zip(keys, anchor)))
        beyond = Tuple(*keys) < anchor if descending else Tuple(*keys) > anchor
        query = query.where(beyond)
    order = [key.desc() for key in keys] if descending else list(keys)
    rows = list(query.order_by(*order).limit(size + 1))
    page = Page(rows[:size])
    if len(rows) > size:
        page.next_after = page[-1].id
    return page


def render_list(template, partial, list_id, status=200, **context):
    """The whole page, or only ``partial`` when htmx asks for the next page of ``list_id``."""
    wants_partial = request.headers.get("HX-Target") == f"{list_id}-more"
    response = make_response(render_template(partial if wants_partial else template, **context))
    response.status_code = status
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response
