"""Who may read and write a school's articles: decided here, for the whole area.

Outsiders get 404. Every member of the school reads published articles; teachers and
administrators write. A draft is seen only by its author and the school's administrators;
for everybody else it does not exist (404).
"""
from flask import abort

from blueprints.schools.access import access_school, roles_in
from db.models import Article, ArticleFile, Membership

WRITERS = {Membership.TEACHER, Membership.ADMIN}


def can_write(user, school):
    return bool(WRITERS & roles_in(user, school))


def can_see(user, article, roles):
    """Whether ``user``, holding ``roles`` in the article's school, may read it."""
    if article.is_published:
        return True
    return article.author_id == user.id or Membership.ADMIN in roles


def can_edit(user, article, roles):
    return article.author_id == user.id or Membership.ADMIN in roles


def access_writer(user, school_id):
    """The school if ``user`` writes articles in it: 404 for outsiders, 403 for other members."""
    school = access_school(user, school_id)
    if not can_write(user, school):
        abort(403)
    return school


def access_article(user, school_id, article_id):
    """``(school, article, roles)`` for a reader; a draft not theirs is 404, as if absent."""
    school = access_school(user, school_id)
    article = Article.get_or_none((Article.id == article_id) & (Article.school == school))
    roles = roles_in(user, school)
    if article is None or not can_see(user, article, roles):
        abort(404)
    return school, article, roles


def access_article_editor(user, school_id, article_id):
    """An article ``user`` may change: its author or an administrator; other readers get 403."""
    school, article, roles = access_article(user, school_id, article_id)
    if not can_edit(user, article, roles):
        abort(403)
    return school, article


def access_file(user, file_id):
    """A picture or video of an article ``user`` may read; an illustration not yet in a saved
    article is seen only by whoever uploaded it."""
    stored = ArticleFile.get_or_none(ArticleFile.id == file_id)
    if stored is None or not user.is_authenticated:
        abort(404)
    if stored.article_id is None:
        if stored.uploader_id != user.id:
            abort(404)
        return stored
    article = stored.article
    roles = roles_in(user, article.school)
    if not roles or not can_see(user, article, roles):
        abort(404)
    return stored
