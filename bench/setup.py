"""Shared set-up: an instance folder with an account, an API key and a patient; the server."""
import os
from datetime import date

# Starting and stopping `python app.py` on an instance is what the tests do too.
from tests.test_instance import free_port, start_server, stop as stop_server  # noqa: F401

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
