"""School documents and «Мои документы» (SPEC §8)."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    User, School = migrator.orm["user"], migrator.orm["school"]

    @migrator.create_model
    class Folder(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, null=True, on_delete="CASCADE")
        owner = pw.ForeignKeyField(User, null=True, on_delete="CASCADE")
        parent = pw.ForeignKeyField("self", null=True, on_delete="CASCADE")
        name = pw.CharField(max_length=128)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "folder"
            indexes = ((("school", "parent"), False), (("owner", "parent"), False))

    @migrator.create_model
    class Document(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, null=True, on_delete="CASCADE")
        owner = pw.ForeignKeyField(User, null=True, on_delete="CASCADE")
        folder = pw.ForeignKeyField(Folder, null=True, on_delete="CASCADE")
        name = pw.CharField(max_length=255)
        content_type = pw.CharField(max_length=128)
        size = pw.IntegerField()
        path = pw.CharField(max_length=255)
        thumb_path = pw.CharField(max_length=255, null=True)
        uploaded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "document"
            indexes = ((("school", "folder"), False), (("owner", "folder"), False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("document")
    migrator.remove_model("folder")
