"""Video lessons (SPEC §7): the lesson, started from a chat, and who is in it."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    User, School, Chat = migrator.orm["user"], migrator.orm["school"], migrator.orm["chat"]

    @migrator.create_model
    class Lesson(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        chat = pw.ForeignKeyField(Chat, on_delete="CASCADE")
        host = pw.ForeignKeyField(User, on_delete="CASCADE")
        kind = pw.CharField(max_length=16, default="lesson")
        mics_allowed = pw.BooleanField(default=True)
        cameras_allowed = pw.BooleanField(default=True)
        started_at = pw.DateTimeField(default=_now)
        ended_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "lesson"
            indexes = ((("chat", "ended_at"), False),)

    @migrator.create_model
    class LessonParticipant(pw.Model):
        id = pw.AutoField()
        lesson = pw.ForeignKeyField(Lesson, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        role = pw.CharField(max_length=16)
        joined_at = pw.DateTimeField(default=_now)
        left_at = pw.DateTimeField(null=True)
        removed = pw.BooleanField(default=False)
        hand_raised_at = pw.DateTimeField(null=True)
        audio_on = pw.BooleanField(default=False)
        video_on = pw.BooleanField(default=False)
        invited = pw.BooleanField(default=False)

        class Meta:
            table_name = "lesson_participant"
            indexes = ((("lesson", "user"), True), (("lesson", "left_at"), False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("lesson_participant")
    migrator.remove_model("lesson")
