"""No one waits behind someone else: imports and exports run on the `bulk` queue's workers,
deliveries and short jobs on the `default` queue's, and an account runs one import at a time.

The first test runs the real thing in a process of its own — `python app.py` (its embedded
workers) on SQLite, `flask --app app worker` on Redis — while account A's large import runs:
account B's small import finishes and B's webhook is delivered, A's second import waits queued
for A's first and runs when it ends. Order and completion are asserted, never durations.
"""
import os
import shutil
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from bench.imports import large_zip as bench_large_zip
from tests.conftest import free_port
from tests.factories import make_patient
from tests.test_apple_health import SAMPLE
from tests.test_imports import upload
from tests.test_instance import ROOT, start_server, stop
from tests.test_jobs import wait_for

LARGE_MB = 192  # of export.xml: a 6 MB zip, a few seconds of a worker's time (bench/imports.py)
WAIT = 300  # seconds to wait for workers at most (a bound on a hung test, not a speed limit)


def large_export(path, megabytes=LARGE_MB):
    """An export.zip of a realistic export.xml (heart rate, steps, energy, sleep, blood pressure,
    workouts) of about `megabytes` MB: bench/imports.py's generator, written as a stream."""
    return bench_large_zip(path, megabytes)


@pytest.fixture(scope="session")
def large_zip(tmp_path_factory):
    return large_export(str(tmp_path_factory.mktemp("large") / "export.zip"))


def queue_import(app, patient, account, path):
    """Record `path` (copied) as `account`'s queued import of `patient`, as a finished tus upload
    does, and enqueue it; returns its id."""
    from avycenna.db import database
    from avycenna.imports import service

    with app.app_context(), database.obj.connection_context():
        handle = service.upload_file()
        handle.close()
        shutil.copyfile(path, handle.name)
        return service.create(patient, account, handle.name, "export.zip").id


def rows(app, *import_ids):
    """{id: row} of the imports, read in one query (one moment for all of them)."""
    from avycenna.db import database
    from avycenna.imports.models import WearableImport

    with app.app_context(), database.obj.connection_context():
        return {row.id: row for row in WearableImport.select().where(WearableImport.id.in_(import_ids))}


def status(app, import_id):
    return rows(app, import_id)[import_id].status


@pytest.fixture
def workers(app, app_config, database_url, redis_url, tmp_path):
    """Start the job workers in a process of their own, as a clinic runs them: `python app.py`
    (embedded workers) on SQLite, `flask --app app worker` on Redis; one default worker, two bulk."""
    env = {"DATABASE_URL": database_url, "AVYCENNA_SECRET_KEY": app_config["SECRET_KEY"],
           "AVYCENNA_QUEUE_NAME": app_config["QUEUE_NAME"], "AVYCENNA_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
           "AVYCENNA_QUEUE_WORKERS": "1", "AVYCENNA_QUEUE_BULK_WORKERS": "2"}

    def start():
        if not redis_url:
            proc = start_server(app.instance_path, free_port(), env)
        else:
            clean = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
            proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "worker", "--queue", "all"], cwd=ROOT,
                env={**clean, **env, "AVYCENNA_INSTANCE_PATH": app.instance_path, "AVYCENNA_QUEUE_URL": redis_url},
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(proc)
        return proc
    started = []
    yield start
    for proc in started:
        stop(proc)


def test_another_account_s_small_import_and_webhook_finish_while_a_large_import_runs(
        app, client, make_user, token_for, receiver, workers, large_zip):
    alice, bob = make_user(), make_user()
    alice_patient, bob_patient = make_patient(app, alice), make_patient(app, bob)
    hook = client.post("/api/v1/webhook-endpoints", headers=token_for(bob),
                       json={"url": receiver.url(), "events": ["wearables.ingested"]})
    assert hook.status_code == 201, hook.get_json()
    workers()

    large = queue_import(app, alice_patient, alice, large_zip)
    assert wait_for(lambda: status(app, large) != "queued", WAIT), "no bulk worker took the large import"
    assert status(app, large) == "running"
    # Alice's second import (small) queues behind her first; Bob's small one comes after it.
    second = upload(client, alice_patient, token_for(alice), SAMPLE).get_json()["id"]
    bobs = upload(client, bob_patient, token_for(bob), SAMPLE).get_json()["id"]

    assert wait_for(lambda: status(app, bobs) == "done" and receiver.requests, WAIT)
    now = rows(app, large, second, bobs)
    assert now[large].status == "running" and now[large].bytes_read < now[large].bytes_total
    assert now[second].status == "queued" and now[second].attempts == 0  # waiting its turn, not failed
    assert now[bobs].finished_at is not None
    path, headers, body = receiver.requests[0]
    assert '"type":"wearables.ingested"' in body and str(bob_patient.id) in body

    assert wait_for(lambda: status(app, second) in ("done", "failed"), WAIT)
    end = rows(app, large, second)
    assert end[large].status == "done" and end[second].status == "done" and end[second].attempts == 1
    assert end[second].started_at >= end[large].finished_at  # Alice's imports took turns


def test_a_second_import_of_an_account_waits_queued_then_runs_when_the_first_ends(app, make_user):
    """Without workers, step by step: while Alice's first import is claimed her second is not
    (and stays queued, its attempts untouched; the sweep leaves it alone), Bob's is; when the
    first ends, her second is enqueued, and runs."""
    from avycenna import jobs
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport

    alice, bob = make_user(), make_user()
    alice_patient, bob_patient = make_patient(app, alice), make_patient(app, bob)
    first, second = (queue_import(app, alice_patient, alice, SAMPLE) for _ in range(2))
    bobs = queue_import(app, bob_patient, bob, SAMPLE)
    with app.app_context(), database.obj.connection_context():
        jobs.bulk.flush()
        assert service.claim(first, "run-1")
        assert not service.claim(second, "run-2")
        service.run_import.call_local(second)  # a worker takes its job: it finds Alice busy and leaves it
        assert service.claim(bobs, "run-3")  # another account is not held up
        WearableImport.update(created_at=utcnow() - timedelta(hours=1)).where(WearableImport.id == second).execute()
        assert service.resume_stale() == []  # waiting its turn behind a live import: not re-enqueued
        assert jobs.bulk.pending_count() == 0
    waiting = rows(app, second)[second]
    assert waiting.status == "queued" and waiting.attempts == 0 and waiting.lease_owner is None

    with app.app_context(), database.obj.connection_context():  # the first one's worker died: the sweep
        WearableImport.update(lease_expires_at=utcnow() - timedelta(seconds=1)).where(  # queues it again
            WearableImport.id == first).execute()
        assert first in service.resume_stale()  # (and her second, now that no live import holds it back)
        jobs.bulk.flush()
    service.run_import.call_local(first)  # runs to the end, and enqueues Alice's next import
    with app.app_context(), database.obj.connection_context():
        assert jobs.bulk.pending_count() == 1
    service.run_import.call_local(second)
    end = rows(app, first, second)
    assert end[first].status == "done" and end[second].status == "done"
    assert end[second].started_at >= end[first].finished_at


def test_of_two_imports_of_one_account_claimed_at_once_one_runs(app, make_user):
    """Claims racing from two threads, on the database's own terms (PostgreSQL: two
    transactions at once; the partial unique index refuses the one the condition let through)."""
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport

    alice = make_user()
    patient = make_patient(app, alice)
    for _ in range(5):
        ids = [queue_import(app, patient, alice, SAMPLE) for _ in range(2)]
        won, start = [], threading.Barrier(2)

        def claim(import_id):
            with app.app_context(), database.obj.connection_context():
                start.wait()
                if service.claim(import_id, "run-" + import_id):
                    won.append(import_id)
        threads = [threading.Thread(target=claim, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(won) == 1
        now = rows(app, *ids)
        assert [now[i].status for i in ids].count("running") == 1
        with app.app_context(), database.obj.connection_context():
            WearableImport.delete().where(WearableImport.id.in_(ids)).execute()


def test_bulk_jobs_and_default_jobs_go_to_their_own_queues(app):
    from avycenna import jobs
    from avycenna.fhir.export import run_export
    from avycenna.housekeeping import hourly
    from avycenna.imports.service import run_import, sweep
    from avycenna.webhooks.tasks import send

    assert {run_import.huey, run_export.huey} == {jobs.bulk}
    assert {send.huey, hourly.huey, sweep.huey} == {jobs.huey}
    with app.app_context():
        send("whd_nothing")
        assert jobs.pending_counts() == {"default": 1, "bulk": 0}
        run_import("imp_nothing")
        assert jobs.pending_counts() == {"default": 1, "bulk": 1}


def test_one_running_import_per_account_is_also_the_database_s_rule(app, make_user):
    from peewee import IntegrityError

    from avycenna.db import database
    from avycenna.imports.models import WearableImport

    alice = make_user()
    patient = make_patient(app, alice)
    ids = [queue_import(app, patient, alice, SAMPLE) for _ in range(2)]
    with app.app_context(), database.obj.connection_context():
        WearableImport.update(status="running").where(WearableImport.id == ids[0]).execute()
        with pytest.raises(IntegrityError), database.obj.atomic():
            WearableImport.update(status="running").where(WearableImport.id == ids[1]).execute()


def test_the_upgrade_puts_an_account_s_extra_running_imports_back_in_the_queue(tmp_path, caplog):
    """A database from before 0024 may hold two running imports of one account: the first
    started keeps running, the later one goes back to the queue (lease cleared), and the index
    is built."""
    import logging
    import uuid
    from datetime import datetime

    from avycenna import create_app
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.imports.models import WearableImport
    from avycenna.migrate import runner, upgrade
    from tests import backends

    url = backends.create_test_database(tmp_path)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
                      "SECRET_KEY": "old-" + uuid.uuid4().hex, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
                      "QUEUE_NAME": "old-" + uuid.uuid4().hex})
    try:
        with app.app_context(), database.obj.connection_context():
            runner().up("0023_oauth")
            alice, bob = create_user("alice@example.test"), create_user("bob@example.test")
        ids = {}
        for name, account, started in (("first", alice, 1), ("later", alice, 2), ("bob", bob, 3)):
            patient = make_patient(app, account, name=name, relationship="child")
            with app.app_context(), database.obj.connection_context():
                ids[name] = WearableImport.create(
                    patient=patient, account=account, filename="export.zip", bytes_total=10, status="running",
                    attempts=1, lease_owner="run-" + name, started_at=datetime(2026, 1, started),
                    lease_expires_at=datetime(2026, 1, started, 0, 2)).id
        caplog.set_level(logging.INFO)
        with app.app_context():
            assert "0024_one_running_import_per_account" in upgrade()
        assert "1 running import(s)" in caplog.text
        now = {i.id: i for i in rows(app, *ids.values()).values()}
        assert [now[ids[n]].status for n in ("first", "later", "bob")] == ["running", "queued", "running"]
        assert now[ids["later"]].lease_owner is None and now[ids["first"]].lease_owner == "run-first"
    finally:
        database.obj.close_all()
        backends.drop_test_database(url)
