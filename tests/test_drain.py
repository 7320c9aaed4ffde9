"""SIGTERM to a real `python app.py`: unready at once, still serving for DRAIN_SECONDS, then no
new connections while the request in flight finishes; a second SIGTERM exits at once.

The request in flight is a patient's creation held up by a write lock the test takes on
the database (SQLite's BEGIN IMMEDIATE, PostgreSQL's LOCK TABLE), released when the test
has seen what it came to see."""
import contextlib
import signal
import sqlite3
import threading
import time

import requests

from tests.test_instance import free_port, start_server, stop

DRAIN = 3.0


@contextlib.contextmanager
def writes_held(database_url):
    """Hold the database's write lock on the patient table until the block ends."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url[len("sqlite:///"):], timeout=10, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg2

        conn = psycopg2.connect(database_url)
        conn.cursor().execute("LOCK TABLE patient IN EXCLUSIVE MODE")  # reads go on; inserts wait
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def serve(app_config, database_url, tmp_path, drain):
    port = free_port()
    env = {"DATABASE_URL": database_url, "AVYCENNA_SECRET_KEY": app_config["SECRET_KEY"],
           "AVYCENNA_DRAIN_SECONDS": str(drain), "AVYCENNA_QUEUE_NAME": app_config["QUEUE_NAME"]}
    return start_server(tmp_path / "instance", port, env), f"http://127.0.0.1:{port}"


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_sigterm_drains(app, app_config, database_url, make_user, key_for, tmp_path):
    headers = key_for(make_user())
    proc, base = serve(app_config, database_url, tmp_path, DRAIN)
    answer = {}

    def create_patient():
        answer["response"] = requests.post(base + "/api/v1/patients", headers=headers, timeout=30, json={
            "name": "Slow Request", "date_of_birth": "1980-01-01", "relationship": "self"})

    try:
        assert requests.get(base + "/health/ready", timeout=5).status_code == 200
        with writes_held(database_url):
            slow = threading.Thread(target=create_patient)
            slow.start()
            time.sleep(0.5)  # the request is in the server, waiting for the lock
            signalled = time.monotonic()
            proc.send_signal(signal.SIGTERM)

            def unready():
                r = requests.get(base + "/health/ready", timeout=5)
                return r.status_code == 503 and r.json()["checks"]["process"] == "draining"

            wait_until(unready, DRAIN - 1, "readiness says draining")
            body = requests.get(base + "/health/ready", timeout=5).json()
            assert body["status"] == "unready" and body["failing"] == ["process"]
            assert requests.get(base + "/health", timeout=5).status_code == 200  # still alive, still serving
            time.sleep(max(signalled + DRAIN + 0.5 - time.monotonic(), 0))

            def refused():
                try:
                    requests.get(base + "/health", timeout=2)
                    return False
                except requests.ConnectionError:
                    return True

            wait_until(refused, 2, "new connections refused after the notice")
            assert slow.is_alive() and proc.poll() is None  # the request in flight holds the exit
        slow.join(10)
        assert answer["response"].status_code == 201, answer["response"].text
        output = proc.communicate(timeout=DRAIN + 5)[0]
        assert proc.returncode == 0, output
        assert "SIGTERM: unready" in output
    finally:
        if proc.poll() is None:
            stop(proc)


def test_a_second_sigterm_exits_at_once(app_config, database_url, tmp_path, app):
    proc, base = serve(app_config, database_url, tmp_path, 60)
    try:
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: requests.get(base + "/health/ready", timeout=5).status_code == 503, 5,
                   "readiness says draining")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
        assert proc.returncode == 128 + signal.SIGTERM
        assert time.monotonic() - started < 3
    finally:
        if proc.poll() is None:
            stop(proc)
