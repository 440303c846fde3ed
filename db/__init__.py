"""The database binding: one peewee database per process, a connection per request.

SQLite is the default (a file under instance/, WAL mode); ``DATABASE_URL`` may name
PostgreSQL instead. Request hooks open and close a connection around each HTTP
request; Socket.IO handlers use ``with_connection`` because request hooks do not run
for socket events.
"""
import functools

from peewee import DatabaseProxy
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -16000,
    "temp_store": "memory",
}


def open_database(url):
    """A peewee database for ``url``, not yet connected."""
    if url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if url.startswith(("postgres://", "postgresql://")):
        return connect(url, autoconnect=True)
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")


def bind_database(app):
    database.initialize(open_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()


def with_connection(handler):
    """Give a Socket.IO handler its own connection for the length of the event."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        with database.connection_context():
            return handler(*args, **kwargs)

    return wrapper
