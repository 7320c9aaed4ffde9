"""What an operator checks: schema version, database and WAL size, last backup, queue depth,
and whether this process shares the rate limits (or counts them alone: Redis was unreachable)."""
import os

from flask import current_app

from avycenna import jobs
from avycenna.backups.service import applied_version, last_backup
from avycenna.db import database, is_sqlite, sqlite_path


def size_of(path):
    return os.path.getsize(path) if path and os.path.exists(path) else 0


def database_sizes():
    """(database bytes, WAL bytes or None)."""
    if is_sqlite():
        return size_of(sqlite_path()), size_of(sqlite_path() + "-wal")
    size = database.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]
    return int(size), None


def queue_depth():
    try:
        return jobs.pending_count()
    except Exception:  # an unreachable Redis: say so rather than fail the page
        return None


def status():
    """The admin status report (a dict shaped like AdminStatusSchema)."""
    size, wal = database_sizes()
    backup = last_backup()
    return {
        "schema_version": applied_version(lambda sql: database.execute_sql(sql).fetchall()),
        "database": {"backend": "sqlite" if is_sqlite() else "postgresql", "size_bytes": size,
                     "wal_size_bytes": wal},
        "last_backup": None if backup is None else {
            "created_at": backup.created_at, "path": backup.path, "size_bytes": backup.size_bytes,
            "schema_version": backup.schema_version},
        "queue": {"pending_jobs": queue_depth()},
        "rate_limits": current_app.extensions["avycenna_budgets"].state(),
    }
