"""Accounts, one-time codes, schools, classes and memberships."""
import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class User(pw.Model):
        id = pw.AutoField()
        phone = pw.CharField(max_length=16, null=True, unique=True)
        email = pw.CharField(max_length=254, null=True, unique=True)
        password_hash = pw.CharField(max_length=255)
        first_name = pw.CharField(max_length=64, default="")
        last_name = pw.CharField(max_length=64, default="")
        patronymic = pw.CharField(max_length=64, default="")
        gender = pw.CharField(max_length=1, default="")
        birth_date = pw.DateField(null=True)
        failed_signins = pw.IntegerField(default=0)
        session_epoch = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "user"

    @migrator.create_model
    class OneTimeCode(pw.Model):
        id = pw.AutoField()
        identifier = pw.CharField(max_length=254)
        purpose = pw.CharField(max_length=16)
        code_hash = pw.CharField(max_length=64)
        created_at = pw.DateTimeField(default=_now)
        expires_at = pw.DateTimeField()
        attempts = pw.IntegerField(default=0)
        used_at = pw.DateTimeField(null=True)
        revoked = pw.BooleanField(default=False)

        class Meta:
            table_name = "one_time_code"
            indexes = ((("identifier", "purpose"), False),)

    @migrator.create_model
    class School(pw.Model):
        id = pw.AutoField()
        full_name = pw.CharField(max_length=255)
        short_name = pw.CharField(max_length=128)
        country = pw.CharField(max_length=64, default="Россия")
        region = pw.CharField(max_length=128, default="")
        city = pw.CharField(max_length=128)
        description = pw.TextField(default="")
        phone = pw.CharField(max_length=16, default="")
        email = pw.CharField(max_length=254, default="")
        address = pw.CharField(max_length=255, default="")
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "school"

    @migrator.create_model
    class SchoolClass(pw.Model):
        id = pw.AutoField()
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        name = pw.CharField(max_length=32)
        profile = pw.CharField(max_length=128, default="")
        class_teacher = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")

        class Meta:
            table_name = "school_class"
            indexes = ((("school", "name"), True),)

    @migrator.create_model
    class Membership(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        school = pw.ForeignKeyField(School, on_delete="CASCADE")
        role = pw.CharField(max_length=16)
        school_class = pw.ForeignKeyField(SchoolClass, null=True, on_delete="CASCADE")
        subject = pw.CharField(max_length=128, default="")
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "membership"
            indexes = ((("user", "school", "role", "school_class", "subject"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in ("membership", "school_class", "school", "one_time_code", "user"):
        migrator.remove_model(name)
