"""Article pictures at the size they are shown: a WebP variant beside each original, with the
cover's size, so a reader's phone never downloads a camera's original to read an article."""
import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "article",
        cover_display_path=pw.CharField(max_length=255, null=True),
        cover_width=pw.IntegerField(null=True),
        cover_height=pw.IntegerField(null=True),
    )
    migrator.add_fields("article_file", display_path=pw.CharField(max_length=255, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("article_file", "display_path")
    migrator.remove_fields("article", "cover_display_path", "cover_width", "cover_height")
