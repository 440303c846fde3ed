"""A poll in an article (SPEC §9): a poll belongs to a chat message or to an article.

SQLite cannot drop a column's NOT NULL with ALTER TABLE, and peewee's way round that (copy
the table, drop the old one) would, with foreign keys on, delete every option and vote of
every chat poll through their ON DELETE CASCADE. So on SQLite the stored table definition
is edited instead: the procedure SQLite's documentation gives for removing a NOT NULL
constraint (https://www.sqlite.org/lang_altertable.html#otheralter), which leaves the rows
as they are.
"""
import peewee as pw
from peewee_migrate import Migrator

REQUIRED = '"message_id" INTEGER NOT NULL,'
OPTIONAL = '"message_id" INTEGER,'


def _message_column_sqlite(database, nullable):
    (create,) = database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'poll'"
    ).fetchone()
    old, new = (REQUIRED, OPTIONAL) if nullable else (OPTIONAL, REQUIRED)
    if create.count(old) != 1:
        raise RuntimeError(f"unexpected definition of the poll table: {create}")
    (version,) = database.execute_sql("PRAGMA schema_version").fetchone()
    database.execute_sql("PRAGMA writable_schema = ON")
    database.execute_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'poll'",
        (create.replace(old, new),),
    )
    database.execute_sql(f"PRAGMA schema_version = {version + 1}")
    database.execute_sql("PRAGMA writable_schema = OFF")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.SqliteDatabase):
        migrator.orm["poll"].message.null = True
        migrator.run(_message_column_sqlite, database, nullable=True)
    else:
        migrator.drop_not_null("poll", "message")
    migrator.add_fields(
        "poll",
        article=pw.ForeignKeyField(migrator.orm["article"], null=True, unique=True, on_delete="CASCADE"),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DELETE FROM poll WHERE article_id IS NOT NULL")
    if isinstance(database, pw.SqliteDatabase):
        migrator.sql('DROP INDEX "poll_article_id"')
        migrator.sql('ALTER TABLE "poll" DROP COLUMN "article_id"')
        migrator.orm["poll"]._meta.remove_field("article")
        migrator.orm["poll"].message.null = False
        migrator.run(_message_column_sqlite, database, nullable=False)
    else:
        migrator.remove_fields("poll", "article")
        migrator.add_not_null("poll", "message")
