"""Articles of a school, their pictures and videos, and full-text search (SPEC §9).

Search is the database's own: an FTS5 table on SQLite (kept in step by
blueprints/articles/actions.py), a GIN index over a Russian ``to_tsvector`` on PostgreSQL.
"""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator

SEARCH_EXPRESSION = "to_tsvector('russian', title || ' ' || body_text)"


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    User, School = migrator.orm["user"], migrator.orm["school"]

    @migrator.create_model
    class Article(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        title = pw.CharField(max_length=200)
        body_html = pw.TextField(default="")
        body_text = pw.TextField(default="")
        cover_path = pw.CharField(max_length=255, null=True)
        cover_thumb_path = pw.CharField(max_length=255, null=True)
        status = pw.CharField(max_length=16, default="draft")
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)
        published_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "article"
            indexes = ((("school", "status", "published_at"), False),)

    @migrator.create_model
    class ArticleFile(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        article = pw.ForeignKeyField(Article, null=True, on_delete="CASCADE")
        uploader = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        kind = pw.CharField(max_length=16)
        name = pw.CharField(max_length=255)
        content_type = pw.CharField(max_length=128)
        size = pw.IntegerField()
        path = pw.CharField(max_length=255)
        thumb_path = pw.CharField(max_length=255, null=True)
        width = pw.IntegerField(null=True)
        height = pw.IntegerField(null=True)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "article_file"

    if isinstance(database, pw.SqliteDatabase):
        migrator.sql(
            "CREATE VIRTUAL TABLE article_search USING fts5("
            "title, body_text, tokenize = 'unicode61 remove_diacritics 2')"
        )
    elif isinstance(database, pw.PostgresqlDatabase):
        migrator.sql(f"CREATE INDEX article_search ON article USING GIN ({SEARCH_EXPRESSION})")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.SqliteDatabase):
        migrator.sql("DROP TABLE IF EXISTS article_search")
    elif isinstance(database, pw.PostgresqlDatabase):
        migrator.sql("DROP INDEX IF EXISTS article_search")
    for table in ("article_file", "article"):
        migrator.remove_model(table)
