"""Backups that restore: online backup under load, restore checks, older schemas upgrade."""
import os
import sqlite3
import subprocess
import sys
from datetime import date

import pytest
import requests

from bench.setup import make_instance
from tests.test_instance import ROOT, free_port, start_server, stop
from tests.test_wearables_durability import BATCH, Stream, body, per_batch_counts


def flask_cli(instance, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env["AVYCENNA_INSTANCE_PATH"] = str(instance)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def integrity(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_online_backup_under_ingest_restores_every_acknowledged_batch_whole(tmp_path):
    instance = tmp_path / "instance"
    _, patient, key = make_instance(str(instance))
    port = free_port()
    proc = start_server(instance, port)
    stream = Stream(f"http://127.0.0.1:{port}/api/v1/patients/{patient.id}/wearables", key)
    stream.start()
    try:
        assert stream.enough.wait(120), "the stream never got going"
        acked_before = list(stream.acked)
        result = flask_cli(instance, "backup", str(tmp_path / "backups") + os.sep)  # while it writes
        assert result.returncode == 0, result.stderr
        acked_during = len(stream.acked) - len(acked_before)
    finally:
        stop(proc)
        stream.join(120)
    assert "WARNING: the secret key is beside it" in result.stdout
    backup = result.stdout.split("backup: ")[1].split()[0]
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert os.stat(backup + ".secret_key").st_mode & 0o777 == 0o600
    assert os.path.basename(backup).startswith("avycenna-") and backup.endswith("Z.sqlite3")

    restored = tmp_path / "restored"
    result = flask_cli(restored, "restore", backup)
    assert result.returncode == 0, result.stderr
    db = restored / "avycenna.sqlite3"
    assert integrity(db) == "ok"
    counts, rolled_up, audited = per_batch_counts(db)
    assert all(counts.get(k) == BATCH for k in acked_before), "an acknowledged batch is missing"
    assert set(counts.values()) == {BATCH}, f"a batch is in the backup in part: {counts}"
    assert rolled_up == sum(counts.values()) and audited == len(counts)
    assert f"wearable_sample: {sum(counts.values())}" in result.stdout
    # The writes went on while the backup ran (it did not stop the server).
    assert acked_during >= 0 and len(stream.acked) >= len(acked_before)
    # The restored instance serves the same data with the same key and the backup's secret key.
    assert (restored / "secret_key").read_text() == (instance / "secret_key").read_text()
    port = free_port()
    proc = start_server(restored, port)
    try:
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/patients/{patient.id}", headers={"X-API-Key": key},
                         timeout=10)
        assert r.status_code == 200 and r.json()["id"] == str(patient.id)
    finally:
        stop(proc)


def test_restore_checks_the_backup_and_will_not_overwrite_data_without_force(tmp_path):
    instance = tmp_path / "instance"
    make_instance(str(instance))
    result = flask_cli(instance, "backup", str(tmp_path / "b.sqlite3"))
    assert result.returncode == 0, result.stderr
    backup = str(tmp_path / "b.sqlite3")

    refused = flask_cli(instance, "restore", backup)  # the instance holds data
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert flask_cli(instance, "restore", "--force", backup).returncode == 0

    with open(backup, "r+b") as fh:  # one flipped byte
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 0xFF]))
    damaged = flask_cli(tmp_path / "fresh", "restore", backup)
    assert damaged.returncode != 0 and "checksum mismatch" in damaged.stderr
    assert "Traceback" not in damaged.stderr
    os.remove(backup + ".json")
    missing = flask_cli(tmp_path / "fresh", "restore", backup)
    assert missing.returncode != 0 and ".json is missing" in missing.stderr


def test_keep_prunes_old_backups(tmp_path):
    instance = tmp_path / "instance"
    make_instance(str(instance))
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20260101T000000Z", "20260102T000000Z"):  # two older backups
        for suffix in ("", ".json", ".secret_key"):
            (folder / f"avycenna-{stamp}.sqlite3{suffix}").write_text("old")
    result = flask_cli(instance, "backup", str(folder), "--keep", "2")
    assert result.returncode == 0, result.stderr
    assert "pruned: avycenna-20260101T000000Z.sqlite3" in result.stdout
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".sqlite3")
    assert len(names) == 2 and names[0] == "avycenna-20260102T000000Z.sqlite3"
    assert not (folder / "avycenna-20260101T000000Z.sqlite3.json").exists()


def old_instance(path):
    """An instance at migration 0005 with an account, an API key and a patient (raw SQL:
    today's models may have columns 0005 did not)."""
    from playhouse.migrations import Runner

    from avycenna import create_app
    from avycenna.api_keys.secrets import generate_key
    from avycenna.api_keys.service import hash_key, visible_prefix
    from avycenna.db import database
    from avycenna.migrate import DIRECTORY

    app = create_app({"INSTANCE_PATH": str(path)})
    key = generate_key()
    with app.app_context(), database.obj.connection_context():
        Runner(database.obj, directory=DIRECTORY).up(target="0005_grants_wearables")
        sql = database.execute_sql
        sql("INSERT INTO \"user\" (id, email, name, role, is_active, created_at) "
            "VALUES ('usr_old000000001', 'old@example.test', 'Old', 'member', 1, '2026-01-01 00:00:00')")
        sql("INSERT INTO api_key (id, user_id, name, prefix, key_hash, created_at) "
            "VALUES ('key_old000000001', 'usr_old000000001', 'k', ?, ?, '2026-01-01 00:00:00')",
            (visible_prefix(key), hash_key(key)))
        sql("INSERT INTO patient (id, account_id, name, date_of_birth, relationship, "
            "id_verification_status, created_at, updated_at) VALUES "
            "('0b7c2f6e-0000-4000-8000-000000000001', 'usr_old000000001', 'Old Patient', ?, 'self', "
            "'unverified', '2026-01-01 00:00:00', '2026-01-01 00:00:00')", (date(1970, 1, 1),))
    return key


def test_a_backup_from_an_older_schema_is_upgraded_on_restore_and_serves(tmp_path):
    old = tmp_path / "old"
    key = old_instance(old)
    result = flask_cli(old, "backup", str(tmp_path / "old.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert "schema version 0005_grants_wearables" in result.stdout

    new = tmp_path / "new"
    result = flask_cli(new, "restore", str(tmp_path / "old.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert "upgraded: 0006_one_self_per_account" in result.stdout
    port = free_port()
    proc = start_server(new, port)
    try:
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/patients", headers={"X-API-Key": key}, timeout=10)
        assert r.status_code == 200
        assert [p["name"] for p in r.json()["data"]] == ["Old Patient"]
    finally:
        stop(proc)


@pytest.mark.parametrize("mode", ["full", "normal"])
def test_sqlite_durability_setting(app_config, mode):
    from avycenna import create_app
    from avycenna.db import database, is_sqlite

    app_config["SQLITE_SYNCHRONOUS"] = mode
    create_app(app_config)
    if not is_sqlite():
        pytest.skip("a SQLite setting")
    with database.obj.connection_context():
        level = database.execute_sql("PRAGMA synchronous").fetchone()[0]
    assert level == {"normal": 1, "full": 2}[mode]


def test_the_default_is_full_durability(app):
    from avycenna.db import database, is_sqlite

    if not is_sqlite():
        pytest.skip("a SQLite setting")
    with app.app_context(), database.obj.connection_context():
        assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2


def test_admin_status_reports_schema_sizes_last_backup_and_queue(app, client, make_user, token_for, runner):
    from avycenna import housekeeping

    admin, member = token_for(make_user(role="admin")), token_for(make_user())
    assert client.get("/api/v1/admin/status", headers=member).status_code == 403
    assert client.get("/api/v1/admin/status").status_code == 401
    status = client.get("/api/v1/admin/status", headers=admin).get_json()
    assert status["schema_version"].startswith("00") and status["last_backup"] is None
    assert status["database"]["size_bytes"] > 0 and status["queue"]["pending_jobs"] == 0
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    assert status["database"]["backend"] == ("sqlite" if sqlite else "postgresql")
    assert (status["database"]["wal_size_bytes"] is not None) == sqlite

    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    housekeeping.hourly()  # one job waiting (no worker runs in this test)
    status = client.get("/api/v1/admin/status", headers=admin).get_json()
    assert status["last_backup"]["path"] == result.output.split("backup: ")[1].split()[0]
    assert status["last_backup"]["schema_version"] == status["schema_version"]
    assert status["queue"]["pending_jobs"] == 1


def test_postgres_backup_runs_pg_dump_and_restores(app, client, runner, make_user, key_for):
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the PostgreSQL path")
    member = make_user(email="kept@example.test")
    headers = key_for(member)
    pid = client.post("/api/v1/patients", headers=headers, json={
        "name": "Kept", "date_of_birth": "1980-01-02", "relationship": "self"}).get_json()["id"]
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    path = result.output.split("backup: ")[1].split()[0]
    assert path.endswith(".pgdump") and os.stat(path).st_mode & 0o777 == 0o600
    assert client.delete(f"/api/v1/patients/{pid}", headers=headers).status_code == 204

    refused = runner.invoke(args=["restore", path])
    assert refused.exit_code != 0 and "--force" in refused.output
    restored = runner.invoke(args=["restore", "--force", path])
    assert restored.exit_code == 0, restored.output
    assert [p["id"] for p in client.get("/api/v1/patients", headers=headers).get_json()["data"]] == [pid]
