"""A person's chosen interface language, kept with the account (Russian unless chosen)."""
import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("user", locale=pw.CharField(max_length=5, default="ru"))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("user", "locale")
