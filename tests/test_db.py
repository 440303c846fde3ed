"""The database layer: migrations keep data, SQLite runs in WAL mode."""
import datetime as dt

from app import create_app
from db import database, migrate


def test_upgrading_an_older_schema_keeps_the_data(tmp_path, database_url):
    create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url, "SECRET_KEY": "t"})
    assert migrate.upgrade("001_initial") == ["001_initial"]
    with database.connection_context():
        database.execute_sql(
            'INSERT INTO "user" (phone, email, password_hash, first_name, last_name, patronymic,'
            " gender, birth_date, failed_signins, session_epoch, created_at)"
            " VALUES ('+79000000002', NULL, 'h', 'Яна', 'Рощина', '', 'f', '1992-07-22', 0, 0,"
            " '2026-01-01 00:00:00')"
        )
        database.execute_sql(
            "INSERT INTO school (full_name, short_name, country, region, city, description,"
            " phone, email, address, created_at) VALUES"
            " ('Гимназия №1', 'Гимназия №1', 'Россия', 'Москва', 'Москва', '', '', '', '',"
            " '2026-01-01 00:00:00')"
        )
    later = migrate.upgrade()
    assert later[0] == "002_user_locale" and "001_initial" not in later
    assert migrate.applied() == ["001_initial", *later]
    from db.models import School, User

    with database.connection_context():
        user = User.get(User.phone == "+79000000002")
        assert (user.first_name, user.last_name, user.birth_date) == ("Яна", "Рощина", dt.date(1992, 7, 22))
        assert user.locale == "ru"
        assert School.get().short_name == "Гимназия №1"
    assert migrate.upgrade() == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "t"})
    with database.connection_context():
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_demo_data_loads_once_with_something_on_every_screen(app):
    from db import demo
    from db.models import Invitation, JoinRequest, ParentInvitation, RosterPerson, SchoolApplication, User

    with app.app_context():
        assert demo.load_if_empty() is True
        count = User.select().count()
        assert demo.load_if_empty() is False
    assert User.select().count() == count == len(demo.PEOPLE) + 2
    assert JoinRequest.select().where(JoinRequest.status == "pending").count() == 2
    assert Invitation.select().count() == 2 and ParentInvitation.select().count() == 1
    assert SchoolApplication.select().where(SchoolApplication.status == "pending").count() == 1
    assert RosterPerson.select().count() > 0
