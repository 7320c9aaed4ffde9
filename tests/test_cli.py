"""The command line as an operator meets it: one-line errors, checked backups, the instance lock.

Each `flask --app app …` here is a real subprocess (a traceback would show on its stderr), on
this run's backend: SQLite in the instance folder, or the run's PostgreSQL database.
"""
import fcntl
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from tests import backends
from tests.conftest import free_port
from tests.test_instance import ROOT, start_server, stop


def backend_env(database_url):
    """The run's database for a subprocess (SQLite: none, it lives in the instance folder)."""
    return {} if database_url.startswith("sqlite") else {"AVYCENNA_DATABASE_URL": database_url}


def flask(instance, database_url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env.update(backend_env(database_url), AVYCENNA_INSTANCE_PATH=str(instance))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def one_line_error(result):
    """The single `Error: …` line a failed command printed (no traceback, nothing else)."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def flip_byte(path, offset=5):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


@pytest.fixture
def fresh_database(database_url, tmp_path):
    """A database no one has upgraded: a new SQLite file, or a new PostgreSQL database."""
    if database_url.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path / "instance" / "avycenna.sqlite3")
        return
    url = backends.create_test_database(tmp_path)
    yield url
    backends.drop_test_database(url)


@pytest.fixture
def instance(tmp_path, fresh_database):
    """An upgraded instance folder with one account."""
    folder = tmp_path / "instance"
    for args in (("db", "upgrade"), ("create-user", "--email", "first@example.test", "--role", "admin")):
        result = flask(folder, fresh_database, *args)
        assert result.returncode == 0, result.stderr
    return folder


def test_create_user_on_a_fresh_instance_upgrades_the_database_first(tmp_path, fresh_database):
    folder = tmp_path / "instance"
    result = flask(folder, fresh_database, "create-user", "--email", "boss@example.test", "--role", "admin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database upgraded: 0001_accounts, ")
    assert "created admin usr_" in result.stdout and "<boss@example.test>" in result.stdout
    again = flask(folder, fresh_database, "create-user", "--email", "boss@example.test")
    assert one_line_error(again) == "Error: An account with this e-mail already exists."
    assert "database upgraded" not in again.stdout  # nothing left to upgrade


def test_a_command_on_a_database_not_upgraded_says_so_in_one_line(tmp_path, fresh_database):
    line = one_line_error(flask(tmp_path / "instance", fresh_database, "housekeeping"))
    assert "the database is not upgraded" in line and "flask --app app db upgrade" in line


def test_backup_to_an_existing_file_is_one_line_and_keeps_the_file(tmp_path, instance, fresh_database):
    dest = tmp_path / "kept.sqlite3"
    dest.write_text("someone else's file")
    line = one_line_error(flask(instance, fresh_database, "backup", str(dest)))
    assert line == f"Error: {dest} already exists: choose another name, or move it away first"
    assert dest.read_text() == "someone else's file"
    assert not os.path.exists(str(dest) + ".json") and not os.path.exists(str(dest) + ".secret_key")

    dest.unlink()
    (tmp_path / "kept.sqlite3.json").write_text("{}")  # a manifest left there counts too
    assert "kept.sqlite3.json already exists" in one_line_error(flask(instance, fresh_database, "backup", str(dest)))
    assert not dest.exists()


def test_the_manifest_checksums_every_file_and_restore_refuses_a_damaged_key(tmp_path, instance, fresh_database):
    backup = str(tmp_path / "nightly")
    result = flask(instance, fresh_database, "backup", backup)
    assert result.returncode == 0, result.stderr
    with open(backup + ".json") as fh:
        manifest = json.load(fh)
    key = backup + ".secret_key"
    assert manifest["files"]["database"]["file"] == "nightly"
    assert manifest["files"]["secret_key"]["file"] == "nightly.secret_key"
    from avycenna.backups.files import sha256_of
    assert manifest["files"]["database"]["sha256"] == sha256_of(backup) == manifest["sha256"]
    assert manifest["files"]["secret_key"]["sha256"] == sha256_of(key)
    assert manifest["files"]["secret_key"]["size_bytes"] == os.path.getsize(key)

    # Another instance on the same backend, about to be restored into.
    fresh = tmp_path / "fresh"
    flip_byte(key)
    line = one_line_error(flask(fresh, fresh_database, "restore", "--force", backup))
    assert line == f"Error: {key}: checksum mismatch — the file is damaged or not this backup"
    own_key = (fresh / "secret_key").read_text()
    with open(key) as fh:
        assert own_key != fh.read()  # the damaged key did not become the instance key
    assert not list(fresh.glob("secret_key.replaced-*"))

    os.remove(key)
    assert one_line_error(flask(fresh, fresh_database, "restore", "--force", backup)) == (
        f"Error: {key} is missing: the backup is incomplete")
    assert (fresh / "secret_key").read_text() == own_key

    with open(backup + ".json", "w") as fh:
        fh.write('{"file": "nightly", "sha2')
    assert "nightly.json is damaged" in one_line_error(flask(fresh, fresh_database, "restore", backup))
    os.remove(backup)
    assert one_line_error(flask(fresh, fresh_database, "restore", backup)) == f"Error: {backup}: no such file"


def test_a_key_file_the_manifest_does_not_cover_is_refused(tmp_path, instance, fresh_database):
    """A manifest written before the key was checksummed (or a key dropped beside a backup)."""
    backup = str(tmp_path / "older")
    assert flask(instance, fresh_database, "backup", backup).returncode == 0
    with open(backup + ".json") as fh:
        manifest = json.load(fh)
    del manifest["files"]  # as an older release wrote it: the database's checksum only
    with open(backup + ".json", "w") as fh:
        json.dump(manifest, fh)
    line = one_line_error(flask(tmp_path / "fresh", fresh_database, "restore", "--force", backup))
    assert line.startswith(f"Error: {backup}.secret_key is not covered by the backup's checksums")
    os.rename(backup + ".secret_key", backup + ".set-aside")  # as the message says
    restored = flask(tmp_path / "fresh", fresh_database, "restore", "--force", backup)
    assert restored.returncode == 0, restored.stderr
    assert "user: 1" in restored.stdout and "secret key" not in restored.stdout


def holds_lock(instance):
    """Whether some process holds instance/instance.lock (an exclusive try fails)."""
    fd = os.open(os.path.join(instance, "instance.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_restore_is_refused_while_a_server_or_a_worker_uses_the_instance(tmp_path, instance, fresh_database):
    backup = str(tmp_path / "b.sqlite3")
    assert flask(instance, fresh_database, "backup", backup).returncode == 0
    port = free_port()
    server = start_server(instance, port, backend_env(fresh_database))
    try:
        line = one_line_error(flask(instance, fresh_database, "restore", "--force", backup))
        assert "a server or worker is using the instance" in line and f"pid {server.pid}: " in line
        assert "app.py" in line and f"kill {server.pid}" in line and "then run the restore again" in line
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    finally:
        stop(server)
    assert not holds_lock(instance)  # gone with the process

    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env.update(backend_env(fresh_database), AVYCENNA_INSTANCE_PATH=str(instance))
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not holds_lock(instance):
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never took the lock"
            time.sleep(0.2)
        line = one_line_error(flask(instance, fresh_database, "restore", "--force", backup))
        assert f"pid {worker.pid}: " in line and "worker" in line
    finally:
        stop(worker)

    restored = flask(instance, fresh_database, "restore", "--force", backup)
    assert restored.returncode == 0, restored.stderr


def test_a_server_does_not_start_while_a_restore_holds_the_instance(tmp_path):
    from avycenna import instancelock

    folder = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env["AVYCENNA_INSTANCE_PATH"] = str(folder)
    with instancelock.exclusive(str(folder)):
        result = subprocess.run([sys.executable, "app.py", "--port", str(free_port())], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"AVYCENNA cannot start: a restore is running on the instance in {folder}; "
        "start again when it has finished.")
    conn = sqlite3.connect(folder / "avycenna.sqlite3")
    try:  # it did not upgrade (write) the database under the restore
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        conn.close()
