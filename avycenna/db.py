"""The deferred Peewee database: chosen at app start, connected per request.

SQLite runs in WAL mode with foreign keys on and a busy timeout; writes go through
`write_transaction()`, which on SQLite takes the write lock up front
(`BEGIN IMMEDIATE`) so concurrent writers wait instead of failing.

PostgreSQL runs several writers at once (READ COMMITTED): a state change there is a
conditional UPDATE with its rowcount checked, or reads its row through `locked()`
(`SELECT … FOR NO KEY UPDATE`). A unit of work decorated with `@transaction` is re-run whole
when PostgreSQL picks it as the loser of a deadlock or serialization conflict, a few
times with a short jittered pause, before the request answers 503.
"""
import functools
import logging
import os
import random
import time
from urllib.parse import urlparse

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


def private_files(path):
    """The SQLite file is created 0600 (like the secret key); SQLite gives its WAL and SHM
    files the database file's mode. Files left wider by an older version are narrowed.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, SQLite's included (so a second `make_database` in a
    process that is using the file would leave its connections unlocked)."""
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        for name in (path, path + "-wal", path + "-shm"):
            if os.path.exists(name) and os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
    except OSError:  # unreachable: connecting fails later, and /health reports it
        log.warning("cannot create the SQLite database file")


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
        private_files(path)
        # Pooled: closing at the end of a request returns the connection instead of
        # closing it, so SQLite does not checkpoint the WAL (an fsync) after every request.
        return PooledSqliteDatabase(path, pragmas=dict(SQLITE_PRAGMAS, synchronous=str(synchronous).lower()),
                                    timeout=10, max_connections=32, stale_timeout=300,
                                    check_same_thread=False)
    if scheme in ("postgres", "postgresql"):
        params = parse(url)
        name = params.pop("database")
        return PostgresPool(name, max_connections=32, stale_timeout=300,
                                        timeout=10, **params)
    raise ValueError(f"Unsupported DATABASE_URL scheme: {scheme!r}")


class PostgresPool(PooledPostgresqlDatabase):
    """Peewee's PostgreSQL pool, without a round trip at every check-out.

    Peewee proves each pooled connection alive with `SELECT 1` when it is checked out, inside
    the pool's lock: every request then waits a round trip, one thread at a time. Here a
    connection that came back to the pool within the last LIVE_FOR seconds (after peewee's
    check-in, which rolls back or drops one left in a transaction) is handed out on its
    `closed` flag alone; one idle for longer is checked as peewee checks it. A server restart
    within that second costs the requests holding such a connection a 503, not a wrong answer.
    `_is_closed` and `_close` are the pool's private hooks: kept because without them the
    threaded server serves 12-25 % fewer requests on PostgreSQL (docs/performance.md#private-names);
    tests/test_private_names.py fails if Peewee changes them.
    """

    LIVE_FOR = 1.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._checked_in = {}  # connection key -> time.monotonic() it came back

    def _is_closed(self, conn):
        if conn.closed:
            return True
        returned = self._checked_in.pop(self.conn_key(conn), None)
        if returned is not None and time.monotonic() - returned < self.LIVE_FOR:
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        super()._close(conn, close_conn)
        if not close_conn:
            self._checked_in[self.conn_key(conn)] = time.monotonic()


def init_app(app):
    url = app.config["DATABASE_URL"]
    if database.obj is not None and not database.is_closed():
        database.close()
    database.initialize(make_database(url, app.config["SQLITE_SYNCHRONOUS"]))

    app.teardown_request(close_after_request)


def connect_for_request(request, g):
    """Before every request (`avycenna.pipeline`): a connection from the pool."""
    try:
        database.connect(reuse_if_open=True)
    except (OperationalError, InterfaceError):
        # Left to the view: /health reports it, anything else answers 503.
        log.warning("database unreachable")


def close_after_request(exc):
    if not database.is_closed():
        database.close()


class Prepared:
    """A Peewee SELECT compiled to SQL once per database, then run with new parameters.

    Building a query's SQL with Peewee costs more than SQLite takes to run it: the lookups
    every request makes (the caller's account, their API key) build theirs once here.
    `build(*params)` returns the query for example parameters; each run passes the same
    number of parameters, as database values, in the order the SQL takes them (so no
    LIMIT: Peewee sends that as a parameter too). Rows come back as model instances,
    through the query's own cursor wrapper (joined models filled in); the wrapper's set-up
    from the columns is kept after the first row, and only its per-row step runs after that.
    Those are Peewee's private names (`_get_cursor_wrapper`, `initialized`): kept because
    without them an authenticated request costs 57-117 % more (docs/performance.md#private-names);
    tests/test_private_names.py fails if Peewee changes them.
    """

    def __init__(self, build):
        self._build = build
        self._compiled = {}  # database class -> (query, sql)
        self._rows = {}  # database class -> the query's cursor wrapper, set up by a first row

    def first(self, *params):
        """The first matching row as a model instance, or None."""
        kind = type(database.obj)
        compiled = self._compiled.get(kind)
        if compiled is None:
            query = self._build(*params)
            sql, example = query.sql()
            if len(example) != len(params):
                raise ValueError(f"Prepared query takes {len(example)} parameters, not {len(params)}")
            compiled = self._compiled[kind] = (query, sql)
        query, sql = compiled
        cursor = database.execute_sql(sql, params)
        rows = self._rows.get(kind)
        if rows is not None:  # Peewee's row-to-model step, its column set-up done once
            row = cursor.fetchone()
            cursor.close()
            return None if row is None else rows.process_row(row)
        wrapper = query._get_cursor_wrapper(cursor)
        found = next(iter(wrapper), None)
        cursor.close()  # an unfinished SQLite statement would hold its read snapshot open
        if wrapper.initialized:  # the same SQL always has the same columns
            wrapper.cursor = None
            self._rows[kind] = wrapper
        return found


def pool_use():
    """(connections in use, idle connections) of this process's pool.

    Peewee's pool keeps both as attributes it names private (`_in_use`, `_connections`) and has no
    public count; tests/test_metrics.py pins what they mean, so an upgrade that changes them fails
    there, not in production."""
    pool = database.obj
    if pool is None:
        return 0, 0
    return len(getattr(pool, "_in_use", ())), len(getattr(pool, "_connections", ()))


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


# SQLSTATEs after which PostgreSQL has rolled the transaction back and a re-run may succeed.
RETRYABLE = {"40001": "serialization failure", "40P01": "deadlock"}
RETRIES = 4  # runs in all, before the error reaches the client as a 503
BACKOFF = 0.02  # seconds; doubled each retry, with full jitter


def sqlstate(error):
    """The SQLSTATE behind a (Peewee-wrapped) driver error, or None."""
    for candidate in (error, *error.args[:1], error.__cause__, error.__context__):
        code = getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


def transaction(function):
    """Decorator: run `function` as one write transaction, re-run whole when it loses a race.

    On PostgreSQL a deadlock or serialization failure rolls the transaction back; the
    unit of work then runs again from its first read, up to RETRIES times with a short
    jittered backoff, and the last failure becomes the usual 503. Called inside another
    transaction it is a savepoint and leaves retrying to the outermost unit. SQLite's
    BEGIN IMMEDIATE serializes writers, so there it runs once.
    """
    @functools.wraps(function)
    def run(*args, **kwargs):
        if database.in_transaction() or is_sqlite():
            with write_transaction():
                return function(*args, **kwargs)
        for attempt in range(1, RETRIES + 1):
            try:
                with write_transaction():
                    return function(*args, **kwargs)
            except OperationalError as error:
                reason = RETRYABLE.get(sqlstate(error))
                if reason is None or attempt == RETRIES:
                    raise
                log.info("write transaction %s lost a race (%s); retry %d",
                         function.__qualname__, reason, attempt)
                time.sleep(random.uniform(0, BACKOFF * 2 ** (attempt - 1)))
    return run


def locked(query):
    """`query` reading its rows under a row lock on PostgreSQL: they stay as read until the
    transaction ends. On SQLite the write transaction's lock already serializes.

    FOR NO KEY UPDATE is the lock PostgreSQL's own UPDATE takes: racing writers of the row
    wait for each other, while inserts of rows that reference it (a foreign key's KEY SHARE
    lock) go on.
    """
    return query if is_sqlite() else query.for_update("FOR NO KEY UPDATE")


def ping():
    """True when the database answers a trivial query."""
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1").fetchone()
        return True
    except Exception as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
