"""Versioned schema migrations (peewee-migrate); the files live in db/migrations/."""
from pathlib import Path

from peewee_migrate import Router

from db import database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def router():
    return Router(database.obj, migrate_dir=str(MIGRATIONS_DIR), logger=_quiet_logger())


def _quiet_logger():
    import logging

    logger = logging.getLogger("parta.migrations")
    logger.propagate = True
    return logger


def upgrade(to=None):
    """Apply every migration not yet applied (or those up to ``to``); returns their names."""
    with database.connection_context():
        return router().run(to)


def applied():
    with database.connection_context():
        return router().done
