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
    "synchronous": "normal",
    "cache_size": -16000,
}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def default_url(instance_path):
    return "sqlite:///" + os.path.join(instance_path, "avycenna.sqlite3")


def private_files(path):
    """The SQLite file is created 0600 (like the secret key); SQLite gives its WAL and SHM
    files the database file's mode. Files left wider by an older version are narrowed."""
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for name in (path, path + "-wal", path + "-shm"):
            if os.path.exists(name) and os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
    except OSError:  # unreachable: connecting fails later, and /health reports it
        log.warning("cannot create the SQLite database file")


def make_database(url):
    """A Peewee database for `sqlite:///path` or `postgresql://…` URLs."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        private_files(path)
        # Pooled: closing at the end of a request returns the connection instead of
        # closing it, so SQLite does not checkpoint the WAL (an fsync) after every request.
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=10, max_connections=32,
                                    stale_timeout=300, check_same_thread=False)
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
    database.initialize(make_database(url))

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
