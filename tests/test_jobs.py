"""The background job queue: jobs run in real workers, inside the app, and survive a restart."""
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import time_machine

from avycenna import housekeeping, jobs
from avycenna.db import database
from avycenna.encounters.models import Encounter
from bench.setup import make_instance
from tests.agent_helpers import ask
from tests.test_instance import free_port, start_server, stop


def overdue_encounter(client):
    """An anonymous encounter opened four days ago and never checked out (72 h deadline)."""
    with time_machine.travel(datetime.now(timezone.utc) - timedelta(days=4), tick=False):
        r = ask(client)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["encounter_id"]


def wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_job_runs_in_a_worker_with_the_app_and_its_database(app, client, job_worker):
    encounter_id = overdue_encounter(client)

    def status():
        with app.app_context(), database.obj.connection_context():
            return Encounter.get_by_id(encounter_id).status

    assert status() == "awaiting_checkout"
    housekeeping.hourly()  # enqueue; returns at once
    assert wait_for(lambda: status() == "expired"), "the worker did not run the job"
    assert wait_for(lambda: jobs.pending_count() == 0)


def test_enqueueing_does_not_run_the_job_in_the_caller(app, client):
    encounter_id = overdue_encounter(client)
    housekeeping.hourly()  # no worker is running
    assert jobs.pending_count() == 1
    with app.app_context(), database.obj.connection_context():
        assert Encounter.get_by_id(encounter_id).status == "awaiting_checkout"


def test_a_job_queued_while_the_server_was_down_runs_when_python_app_py_starts(tmp_path):
    instance = tmp_path / "instance"
    app, _, _ = make_instance(str(instance))  # SQLite: jobs live in instance/jobs.sqlite3
    encounter_id = overdue_encounter(app.test_client())
    housekeeping.hourly()
    assert jobs.pending_count() == 1
    assert (instance / "jobs.sqlite3").stat().st_mode & 0o777 == 0o600

    def status():
        conn = sqlite3.connect(instance / "avycenna.sqlite3")
        try:
            return conn.execute("SELECT status FROM encounter WHERE id = ?", (encounter_id,)).fetchone()[0]
        finally:
            conn.close()

    proc = start_server(instance, free_port())  # the embedded consumer picks the job up
    try:
        assert wait_for(lambda: status() == "expired"), "the queued job never ran"
    finally:
        stop(proc)


def test_worker_command_is_documented(runner):
    result = runner.invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "QUEUE_URL" in result.output
    assert "--queue [all|default|bulk]" in result.output and "QUEUE_BULK_WORKERS" in result.output
