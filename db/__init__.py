"""The database binding: one peewee database per process, a connection per request.

SQLite is the default (a file under instance/, WAL mode); ``DATABASE_URL`` may name
PostgreSQL instead. Request hooks open and close a connection around each HTTP
request; Socket.IO handlers use ``with_connection`` because request hooks do not run
for socket events.
"""
import functools

from flask import g
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
    if url.startswith("sqlite:"):
        # Pooled: closing SQLite's last connection checkpoints and deletes the WAL, and the
        # next write makes it again — blocking disk work on every request and socket event.
        # A pooled connection stays open between them (bench.fanout measured the difference).
        # The pool hands a connection to whichever thread asks next (ASYNC_MODE=threading,
        # tests); each is used by one thread at a time, which is what SQLite requires.
        return connect(
            url.replace("sqlite:", "sqlite+pool:", 1),
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            max_connections=64,
            stale_timeout=3600,
        )
    if url.startswith(("postgres://", "postgresql://")):
        return connect(url, autoconnect=True)
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")


def bind_database(app):
    database.initialize(open_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        g.opened_database = database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        # Only what this request opened: a request context made inside other work (a
        # command rendering a template) must not close that work's connection.
        if g.pop("opened_database", False) and not database.is_closed():
            database.close()


def with_connection(handler):
    """Give a Socket.IO handler its own connection for the length of the event."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        with database.connection_context():
            return handler(*args, **kwargs)

    return wrapper
