"""Chats, messages, files, polls and reports (SPEC §5, §6)."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    User, School = migrator.orm["user"], migrator.orm["school"]
    SchoolClass = migrator.orm["school_class"]

    @migrator.create_model
    class Chat(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        kind = pw.CharField(max_length=16)
        name = pw.CharField(max_length=128, default="")
        school_class = pw.ForeignKeyField(SchoolClass, null=True, on_delete="SET NULL")
        created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        is_public = pw.BooleanField(default=False)
        teachers_only = pw.BooleanField(default=False)
        personal_key = pw.CharField(max_length=32, null=True, unique=True)
        last_message_id = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "chat"

    @migrator.create_model
    class ChatMember(pw.Model):
        id = pw.AutoField()
        chat = pw.ForeignKeyField(Chat, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        last_read_id = pw.IntegerField(default=0)
        joined_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "chat_member"
            indexes = ((("chat", "user"), True), (("user", "chat"), False))

    @migrator.create_model
    class Message(pw.Model):
        id = pw.AutoField()
        chat = pw.ForeignKeyField(Chat, on_delete="CASCADE")
        author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        client_id = pw.CharField(max_length=64)
        kind = pw.CharField(max_length=16, default="text")
        body = pw.TextField(default="")
        reply_to = pw.ForeignKeyField("self", null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField(default=_now)
        edited_at = pw.DateTimeField(null=True)
        deleted_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "message"
            indexes = ((("author", "client_id"), True), (("chat", "id"), False))

    @migrator.create_model
    class Attachment(pw.Model):
        id = pw.AutoField()
        message = pw.ForeignKeyField(Message, on_delete="CASCADE")
        kind = pw.CharField(max_length=8)
        name = pw.CharField(max_length=255)
        content_type = pw.CharField(max_length=128)
        size = pw.IntegerField()
        path = pw.CharField(max_length=255)
        thumb_path = pw.CharField(max_length=255, null=True)
        width = pw.IntegerField(null=True)
        height = pw.IntegerField(null=True)
        thumb_width = pw.IntegerField(null=True)
        thumb_height = pw.IntegerField(null=True)

        class Meta:
            table_name = "attachment"

    @migrator.create_model
    class Poll(pw.Model):
        id = pw.AutoField()
        message = pw.ForeignKeyField(Message, unique=True, on_delete="CASCADE")
        question = pw.CharField(max_length=300)
        background = pw.CharField(max_length=16, default="")
        anonymous = pw.BooleanField(default=False)
        multiple = pw.BooleanField(default=False)
        retractable = pw.BooleanField(default=True)
        ends_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "poll"

    @migrator.create_model
    class PollOption(pw.Model):
        id = pw.AutoField()
        poll = pw.ForeignKeyField(Poll, on_delete="CASCADE")
        text = pw.CharField(max_length=200)
        position = pw.IntegerField(default=0)

        class Meta:
            table_name = "poll_option"

    @migrator.create_model
    class PollVote(pw.Model):
        id = pw.AutoField()
        poll = pw.ForeignKeyField(Poll, on_delete="CASCADE")
        option = pw.ForeignKeyField(PollOption, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "poll_vote"
            indexes = ((("option", "user"), True), (("poll", "user"), False))

    @migrator.create_model
    class MessageReport(pw.Model):
        id = pw.AutoField()
        message = pw.ForeignKeyField(Message, on_delete="CASCADE")
        reporter = pw.ForeignKeyField(User, on_delete="CASCADE")
        reason = pw.TextField(default="")
        created_at = pw.DateTimeField(default=_now)
        resolved_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "message_report"
            indexes = ((("message", "reporter"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in (
        "message_report", "poll_vote", "poll_option", "poll", "attachment", "message",
        "chat_member", "chat",
    ):
        migrator.remove_model(table)
