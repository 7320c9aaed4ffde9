"""The deferred Peewee database: chosen at app start, connected per request.

SQLite runs in WAL mode with foreign keys on and a busy timeout; writes go through
`write_transaction()`, which on SQLite takes the write lock up front
(`BEGIN IMMEDIATE`) so concurrent writers wait instead of failing.
"""
import os
from urllib.parse import urlparse

import logging

from peewee import DatabaseProxy, InterfaceError, Model, OperationalError, SqliteDatabase
from playhouse.db_url import parse
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()
log = logging.getLogger("avycenna")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -16000,
}
SYNCHRONOUS_MODES = ("full", "normal", "extra")


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def default_url(instance_path):
    return "sqlite:///" + os.path.join(instance_path, "avycenna.sqlite3")


def make_database(url, synchronous="full"):
    """A Peewee database for `sqlite:///path` or `postgresql://…` URLs.

    SQLite's `synchronous=full` (the default) syncs the WAL at every commit, so an
    acknowledged write survives a power cut; `normal` survives a crash of the process
    but may lose the last commits on power loss (see SQLITE_SYNCHRONOUS).
    """
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if str(synchronous).lower() not in SYNCHRONOUS_MODES:
            raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {SYNCHRONOUS_MODES}")
        # Pooled: closing at the end of a request returns the connection instead of
        # closing it, so SQLite does not checkpoint the WAL (an fsync) after every request.
        return PooledSqliteDatabase(path, pragmas=dict(SQLITE_PRAGMAS, synchronous=str(synchronous).lower()),
                                    timeout=10, max_connections=32, stale_timeout=300,
                                    check_same_thread=False)
    if scheme in ("postgres", "postgresql"):
        params = parse(url)
        name = params.pop("database")
        return PooledPostgresqlDatabase(name, max_connections=32, stale_timeout=300,
                                        timeout=10, **params)
    raise ValueError(f"Unsupported DATABASE_URL scheme: {scheme!r}")


def init_app(app):
    url = app.config["DATABASE_URL"]
    if database.obj is not None and not database.is_closed():
        database.close()
    database.initialize(make_database(url, app.config["SQLITE_SYNCHRONOUS"]))

    @app.before_request
    def _connect():
        try:
            database.connect(reuse_if_open=True)
        except (OperationalError, InterfaceError):
            # Left to the view: /health reports it, anything else answers 503.
            log.warning("database unreachable")

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()


def is_sqlite():
    return isinstance(database.obj, SqliteDatabase)


def sqlite_path():
    """The SQLite database file (None on PostgreSQL)."""
    return database.obj.database if is_sqlite() else None


def write_transaction():
    """A transaction for read-then-write work: BEGIN IMMEDIATE on SQLite."""
    if is_sqlite():
        return database.atomic("IMMEDIATE")
    return database.atomic()


def ping():
    """True when the database answers a trivial query."""
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1").fetchone()
        return True
    except Exception as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
