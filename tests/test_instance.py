"""`python app.py` on a fresh machine: creates instance/, the database and a 0600 key."""
import os
import stat
import subprocess
import sys
import time

import requests

from tests.conftest import free_port  # noqa: F401 (re-exported for the durability test and bench)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(instance, port, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    # No drain on SIGTERM (tests/test_drain.py sets its own): `stop` ends the server at once.
    env.update({"AVYCENNA_INSTANCE_PATH": str(instance), "AVYCENNA_DRAIN_SECONDS": "0"}, **(extra_env or {}))
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start: " + proc.stdout.read())


def stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


def test_first_start_creates_instance_and_second_reuses_it(tmp_path):
    instance = tmp_path / "instance"
    port = free_port()
    proc = start_server(instance, port)
    try:
        assert requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).status_code == 200
    finally:
        output = stop(proc)
    assert f"http://127.0.0.1:{port}/docs" in output
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700  # the key, the database, the backups: ours alone
    assert (instance / "avycenna.sqlite3").exists()
    key = key_file.read_text()

    proc = start_server(instance, port)
    stop(proc)
    assert key_file.read_text() == key
