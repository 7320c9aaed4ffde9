"""Shared set-up: an instance folder with an account, an API key and a patient."""
import os
import socket
import subprocess
import sys
import time
from datetime import date

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOUR_MS = 3600 * 1000


def make_instance(path):
    """Upgrade a fresh SQLite instance; returns (app, patient, api_key)."""
    from avycenna import create_app
    from avycenna.api_keys.service import create_key
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.migrate import upgrade
    from avycenna.patients.models import Patient

    app = create_app({"INSTANCE_PATH": path, "DATABASE_URL": "sqlite:///" + os.path.join(path, "avycenna.sqlite3")})
    with app.app_context():
        upgrade()
        with database.obj.connection_context():
            user = create_user("bench@example.test")
            _, key = create_key(user, "bench")
            patient = Patient.create(account=user, name="Bench", date_of_birth=date(1980, 1, 1), relationship="self")
    return app, patient, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(instance, port, threads=4):
    """`python app.py` on the instance; returns the process once /health answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env["AVYCENNA_INSTANCE_PATH"] = instance
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--threads", str(threads)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop_server(proc):
    proc.terminate()
    proc.wait(timeout=10)
