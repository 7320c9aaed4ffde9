"""Take a consistent online backup, and restore one into a stopped instance.

SQLite: `VACUUM INTO` copies one read transaction's snapshot while the server keeps
serving and writing (WAL readers never block writers), so every commit before the
backup started is in it whole and none after it is there in part. PostgreSQL:
`pg_dump` (custom format) when it is installed, or the exact command to run.
Each backup is written 0600: the copy, the secret key beside it (`.secret_key`) and a
`.json` manifest with the SHA-256 of both, the schema version and row counts. A restore
checks every file first and needs the instance to itself (`avycenna.instancelock`).
"""
import glob
import os
import shutil
import sqlite3
import subprocess
import time

from flask import current_app

from avycenna import instancelock
from avycenna.backups import files
from avycenna.backups.models import BackupRecord
from avycenna.clock import isoformat, utcnow
from avycenna.db import database, is_sqlite, sqlite_path, write_transaction


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def default_directory():
    return os.path.join(current_app.instance_path, "backups")


def backup_path(dest, suffix):
    """DEST as given (a file), or a timestamped name inside DEST (a folder) or instance/backups."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    name = f"avycenna-{stamp}{suffix}"
    if dest is None:
        dest = default_directory()
    if os.path.isdir(dest) or dest.endswith(os.sep) or dest == default_directory():
        os.makedirs(dest, mode=0o700, exist_ok=True)
        return os.path.join(dest, name)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), mode=0o700, exist_ok=True)
    return dest


def applied_version(conn_execute):
    """The newest applied migration's name, read through `conn_execute(sql) -> rows`."""
    rows = conn_execute("SELECT name FROM schema_migration")
    names = sorted(row[0] for row in rows)
    return names[-1] if names else None


def table_counts_sqlite(path):
    from avycenna.models import all_models

    conn = sqlite3.connect(path)
    try:
        existing = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {m._meta.table_name: conn.execute(f'SELECT COUNT(*) FROM "{m._meta.table_name}"').fetchone()[0]
                for m in all_models() if m._meta.table_name in existing}
    finally:
        conn.close()


def table_counts():
    """Rows per table in the app's database."""
    from avycenna.models import all_models

    existing = set(database.get_tables())
    return {m._meta.table_name: m.select().count() for m in all_models() if m._meta.table_name in existing}


def refuse_existing(path):
    """A backup never overwrites: DEST, DEST.json or DEST.secret_key already there is refused."""
    for name in (path, path + files.MANIFEST_SUFFIX, path + files.KEY_SUFFIX):
        if os.path.lexists(name):
            raise BackupError(f"{name} already exists: choose another name, or move it away first")


def take_backup(dest=None, keep=None):
    """Back up the database (and the secret key) now; returns the manifest.

    The manifest's `files` holds the SHA-256 and size of every file of the backup (the
    database copy and the key); `restore` checks them all before it touches anything."""
    path = backup_path(dest, ".sqlite3" if is_sqlite() else ".pgdump")
    refuse_existing(path)
    try:
        manifest = write_backup(path)
    except BaseException:
        for name in (path, path + files.KEY_SUFFIX, path + files.MANIFEST_SUFFIX):
            if os.path.exists(name):
                os.remove(name)
        raise
    if BackupRecord.table_exists():  # an instance not yet upgraded can still be backed up
        record(path, manifest)
    manifest["path"] = os.path.abspath(path)
    if keep:
        manifest["pruned"] = prune(os.path.dirname(path), keep)
    return manifest


def write_backup(path):
    """The database copy, the key beside it, then the manifest naming both (written last)."""
    if is_sqlite():
        files.create_private(path)  # VACUUM INTO fills an empty file, keeping its 0600 mode
        database.execute_sql("VACUUM INTO ?", (path,))
        files.fsync(path)
        conn = sqlite3.connect(path)
        try:
            version = applied_version(lambda sql: conn.execute(sql).fetchall())
        finally:
            conn.close()
        counts = table_counts_sqlite(path)
        backend = "sqlite"
    else:
        pg_dump(path)
        version = applied_version(lambda sql: database.execute_sql(sql).fetchall())
        counts = table_counts()
        backend = "postgresql"
    covered = {"database": path}
    key_file = os.path.join(current_app.instance_path, "secret_key")
    if os.path.exists(key_file):
        files.copy_private(key_file, path + files.KEY_SUFFIX)
        covered["secret_key"] = path + files.KEY_SUFFIX
    checked = {role: {"file": os.path.basename(name), "sha256": files.sha256_of(name),
                      "size_bytes": os.path.getsize(name)} for role, name in covered.items()}
    manifest = {"file": os.path.basename(path), "backend": backend, "created_at": isoformat(utcnow()),
                "sha256": checked["database"]["sha256"], "size_bytes": checked["database"]["size_bytes"],
                "schema_version": version, "row_counts": counts, "files": checked}
    files.write_manifest(path, manifest)
    return manifest


def record(path, manifest):
    with write_transaction():
        BackupRecord.create(path=os.path.abspath(path), sha256=manifest["sha256"],
                            schema_version=manifest["schema_version"] or "",
                            size_bytes=manifest["size_bytes"])


def pg_dump(path):
    url = current_app.config["DATABASE_URL"]
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed here. Run it where it is: "
                          f"pg_dump --format=custom --no-owner --file={path} '{url}'")
    files.create_private(path)
    result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", url],
                            capture_output=True, text=True)
    if result.returncode != 0:
        os.remove(path)
        raise BackupError("pg_dump failed: " + result.stderr.strip())


def prune(directory, keep):
    """Delete all but the newest `keep` backups in `directory`; returns the deleted names."""
    backups = sorted(glob.glob(os.path.join(directory, "avycenna-*Z.sqlite3"))
                     + glob.glob(os.path.join(directory, "avycenna-*Z.pgdump")))
    doomed = backups[:-keep] if keep > 0 else []
    for path in doomed:
        for name in (path, path + files.MANIFEST_SUFFIX, path + files.KEY_SUFFIX):
            if os.path.exists(name):
                os.remove(name)
    return [os.path.basename(p) for p in doomed]


def has_data():
    """Whether the app's database holds any row of ours (a restore would overwrite it)."""
    from avycenna.models import all_models

    if is_sqlite() and not os.path.exists(sqlite_path()):
        return False
    with database.connection_context():
        existing = set(database.get_tables())
        return any(m.select().exists() for m in all_models() if m._meta.table_name in existing)


def verify(path):
    """The backup's manifest, after checking every file's checksum and the schema version.

    Every file restore would use must be named in the manifest and match its SHA-256: a
    damaged database or key file is refused before anything is replaced."""
    from avycenna.migrate import known_versions

    if not os.path.exists(path):
        raise BackupError(f"{path}: no such file")
    try:
        manifest = files.read_manifest(path)
    except ValueError:  # not JSON, or not UTF-8
        manifest = {}
    if manifest is None:
        raise BackupError(f"{path}{files.MANIFEST_SUFFIX} is missing: cannot check the backup")
    # A manifest from before every file was listed covers the database only.
    checked = (manifest.get("files") or {"database": {"sha256": manifest.get("sha256")}}
               if isinstance(manifest, dict) else None)
    if (not isinstance(checked, dict) or not all(isinstance(v, dict) for v in checked.values())
            or "database" not in checked or not {"backend", "schema_version"} <= manifest.keys()):
        raise BackupError(f"{path}{files.MANIFEST_SUFFIX} is damaged: it is not a backup manifest")
    names = {"database": path, "secret_key": path + files.KEY_SUFFIX}
    for role, expected in checked.items():
        name = names.get(role)
        if name is None:
            raise BackupError(f"{path}{files.MANIFEST_SUFFIX} lists a {role!r} file this version "
                              "of AVYCENNA does not know (restore it with the release that took it)")
        if not os.path.exists(name):
            raise BackupError(f"{name} is missing: the backup is incomplete")
        if files.sha256_of(name) != expected.get("sha256"):
            raise BackupError(f"{name}: checksum mismatch — the file is damaged or not this backup")
    key = names["secret_key"]
    if os.path.exists(key) and "secret_key" not in checked:
        raise BackupError(f"{key} is not covered by the backup's checksums: move it away to restore "
                          "without it (the instance keeps its own key)")
    if manifest["schema_version"] not in known_versions():
        raise BackupError(f"{path}: schema version {manifest['schema_version']} is unknown to this "
                          "version of AVYCENNA (restore it with the release that took it)")
    return manifest


def restore(path, force=False):
    """Replace the (stopped) instance's database with the backup at `path`, then upgrade it.

    Refused (InstanceBusy) while `python app.py` or `flask worker` uses this instance folder.
    Returns {"applied": [migrations], "row_counts": {table: n}, "key_replaced": bool}.
    """
    with instancelock.exclusive(current_app.instance_path):
        return restore_stopped(path, force)


def restore_stopped(path, force):
    from avycenna.migrate import upgrade

    manifest = verify(path)
    backend = "sqlite" if is_sqlite() else "postgresql"
    if manifest["backend"] != backend:
        raise BackupError(f"this is a {manifest['backend']} backup; the instance uses {backend} "
                          "(use `flask --app app db copy` to move between them)")
    if has_data() and not force:
        raise BackupError("the instance's database already holds data; stop the server and add "
                          "--force to overwrite it")
    database.close_all() if hasattr(database.obj, "close_all") else database.close()
    if backend == "sqlite":
        replace_sqlite(path)
    else:
        pg_restore(path)
    key_replaced = install_key(path)
    applied = upgrade()
    with database.connection_context():
        counts = table_counts()
    return {"applied": applied, "row_counts": counts, "key_replaced": key_replaced,
            "schema_version": manifest["schema_version"]}


def replace_sqlite(path):
    target = sqlite_path()
    temp = target + ".restoring"
    if os.path.exists(temp):
        os.remove(temp)
    files.copy_private(path, temp)
    for stale in (target + "-wal", target + "-shm"):
        if os.path.exists(stale):
            os.remove(stale)
    os.replace(temp, target)


def pg_restore(path):
    url = current_app.config["DATABASE_URL"]
    if shutil.which("pg_restore") is None:
        raise BackupError(f"pg_restore is not installed here. Run: pg_restore --clean --if-exists "
                          f"--no-owner --dbname='{url}' {path}")
    result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={url}", path],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError("pg_restore failed: " + result.stderr.strip())


def install_key(path):
    """Put the backup's secret key in place (tokens and cookies were signed with it).

    The instance's previous key is kept as `secret_key.replaced-<time>`."""
    source = path + files.KEY_SUFFIX
    if not os.path.exists(source):
        return False
    target = os.path.join(current_app.instance_path, "secret_key")
    if os.path.exists(target):
        with open(source) as a, open(target) as b:
            if a.read() == b.read():
                return False
        os.replace(target, f"{target}.replaced-{int(time.time())}")
    files.copy_private(source, target)
    return True


def last_backup():
    """The newest BackupRecord, or None."""
    return BackupRecord.select().order_by(BackupRecord.created_at.desc()).first()


__all__ = ["BackupError", "last_backup", "restore", "take_backup"]
