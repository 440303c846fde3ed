"""Schools and every way in: operator, applications, invitations, requests, parents, roster."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("user", is_operator=pw.BooleanField(default=False))
    migrator.add_fields("school_class", sourced_id=pw.CharField(max_length=255, null=True))
    migrator.add_fields("membership", position=pw.CharField(max_length=128, default=""))
    User, School = migrator.orm["user"], migrator.orm["school"]
    SchoolClass = migrator.orm["school_class"]

    @migrator.create_model
    class SchoolApplication(pw.Model):
        id = pw.AutoField()
        full_name = pw.CharField(max_length=255)
        short_name = pw.CharField(max_length=128)
        country = pw.CharField(max_length=64, default="Россия")
        region = pw.CharField(max_length=128)
        city = pw.CharField(max_length=128)
        admin_name = pw.CharField(max_length=200)
        admin_phone = pw.CharField(max_length=16)
        admin_email = pw.CharField(max_length=254)
        applicant = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        status = pw.CharField(max_length=16, default="pending")
        reason = pw.TextField(default="")
        school = pw.ForeignKeyField(School, null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField(default=_now)
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "school_application"

    @migrator.create_model
    class Invitation(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        role = pw.CharField(max_length=16)
        school_class = pw.ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
        created_by = pw.ForeignKeyField(User, on_delete="CASCADE")
        nonce = pw.CharField(max_length=32)
        token_hash = pw.CharField(max_length=64, unique=True)
        created_at = pw.DateTimeField(default=_now)
        expires_at = pw.DateTimeField()
        max_uses = pw.IntegerField(null=True)
        uses = pw.IntegerField(default=0)
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "invitation"

    @migrator.create_model
    class JoinRequest(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        role = pw.CharField(max_length=16)
        school_class = pw.ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
        subjects = pw.CharField(max_length=255, default="")
        invitation = pw.ForeignKeyField(Invitation, null=True, on_delete="SET NULL")
        status = pw.CharField(max_length=16, default="pending")
        reason = pw.TextField(default="")
        decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField(default=_now)
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "join_request"

    @migrator.create_model
    class ParentInvitation(pw.Model):
        id = pw.AutoField()
        student = pw.ForeignKeyField(User, on_delete="CASCADE")
        nonce = pw.CharField(max_length=32)
        token_hash = pw.CharField(max_length=64, unique=True)
        created_at = pw.DateTimeField(default=_now)
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "parent_invitation"

    @migrator.create_model
    class ParentLink(pw.Model):
        id = pw.AutoField()
        parent = pw.ForeignKeyField(User, on_delete="CASCADE")
        child = pw.ForeignKeyField(User, on_delete="CASCADE")
        created_at = pw.DateTimeField(default=_now)
        confirmed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "parent_link"
            indexes = ((("parent", "child"), True),)

    @migrator.create_model
    class Notification(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        kind = pw.CharField(max_length=32)
        text = pw.TextField()
        link = pw.CharField(max_length=255, default="")
        created_at = pw.DateTimeField(default=_now)
        read_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "notification"

    @migrator.create_model
    class RosterPerson(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        sourced_id = pw.CharField(max_length=255)
        role = pw.CharField(max_length=16)
        given_name = pw.CharField(max_length=64, default="")
        family_name = pw.CharField(max_length=64, default="")
        middle_name = pw.CharField(max_length=64, default="")
        phone = pw.CharField(max_length=16, null=True)
        email = pw.CharField(max_length=254, null=True)
        class_sourced_ids = pw.TextField(default="")
        agent_sourced_ids = pw.TextField(default="")
        user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "roster_person"
            indexes = ((("school", "sourced_id"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in (
        "roster_person",
        "notification",
        "parent_link",
        "parent_invitation",
        "join_request",
        "invitation",
        "school_application",
    ):
        migrator.remove_model(name)
    migrator.remove_fields("membership", "position")
    migrator.remove_fields("school_class", "sourced_id")
    migrator.remove_fields("user", "is_operator")
