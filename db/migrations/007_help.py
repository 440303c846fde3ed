"""Support questions with screenshots, appeals to a school, feedback (SPEC §11)."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    User, School = migrator.orm["user"], migrator.orm["school"]

    @migrator.create_model
    class SupportQuestion(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(User, null=True, on_delete="CASCADE")
        email = pw.CharField(max_length=254, default="")
        token_nonce = pw.CharField(max_length=32, null=True)
        token_hash = pw.CharField(max_length=64, null=True, unique=True)
        locale = pw.CharField(max_length=5, default="ru")
        section = pw.CharField(max_length=64, default="")
        subject = pw.CharField(max_length=200)
        steps = pw.TextField(default="")
        status = pw.CharField(max_length=16, default="waiting")
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "support_question"
            indexes = ((("status", "updated_at"), False),)

    @migrator.create_model
    class SupportMessage(pw.Model):
        id = pw.AutoField()
        question = pw.ForeignKeyField(SupportQuestion, on_delete="CASCADE")
        author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        from_support = pw.BooleanField(default=False)
        text = pw.TextField()
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "support_message"

    @migrator.create_model
    class SupportScreenshot(pw.Model):
        id = pw.AutoField()
        message = pw.ForeignKeyField(SupportMessage, on_delete="CASCADE")
        name = pw.CharField(max_length=255)
        content_type = pw.CharField(max_length=128)
        size = pw.IntegerField()
        path = pw.CharField(max_length=255)
        thumb_path = pw.CharField(max_length=255)
        thumb_width = pw.IntegerField()
        thumb_height = pw.IntegerField()

        class Meta:
            table_name = "support_screenshot"

    @migrator.create_model
    class Appeal(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        author = pw.ForeignKeyField(User, on_delete="CASCADE")
        subject = pw.CharField(max_length=200)
        status = pw.CharField(max_length=16, default="waiting")
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "appeal"
            indexes = ((("school", "updated_at"), False),)

    @migrator.create_model
    class AppealMessage(pw.Model):
        id = pw.AutoField()
        appeal = pw.ForeignKeyField(Appeal, on_delete="CASCADE")
        author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        from_school = pw.BooleanField(default=False)
        text = pw.TextField()
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "appeal_message"

    @migrator.create_model
    class Feedback(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        text = pw.TextField()
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "feedback"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in (
        "feedback", "appeal_message", "appeal", "support_screenshot", "support_message",
        "support_question",
    ):
        migrator.remove_model(table)
