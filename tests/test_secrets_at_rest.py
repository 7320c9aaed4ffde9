"""No bearer credential in any log line; the SQLite files are private like the secret key."""
import logging
import os
import stat
import threading

import pytest

from tests.agent_helpers import QUERY


@pytest.fixture
def dev_server(app):
    """The app under werkzeug's development server (`flask run`), which logs an access line per request."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_the_checkout_token_never_reaches_an_access_log(client, dev_server, caplog):
    import requests

    caplog.set_level(logging.INFO)
    body = client.post("/api/v1/agent/query", json={"query": QUERY}).get_json()
    token = body["encounter_token"]
    assert token in body["checkout_url"]
    r = requests.get(dev_server + "/checkout/" + token, timeout=10)
    assert r.status_code == 200
    requests.get(dev_server + "/checkout/" + token + "?step=2", timeout=10)
    requests.get(dev_server + "/api/v1/agent/encounters/" + body["encounter_id"], timeout=10,
                 headers={"Authorization": "Bearer " + token})
    access_lines = [m for m in caplog.messages if "GET /" in m]
    assert len(access_lines) >= 3
    assert token not in caplog.text
    assert any("/checkout/[redacted]" in line for line in access_lines)


@pytest.mark.parametrize("logger", ["waitress", "avycenna", "avycenna.mail", "werkzeug", "peewee"])
def test_every_logger_redacts_credentials(app, caplog, logger):
    caplog.set_level(logging.INFO)
    token = "ab" * 32
    secrets = [token, "avk_0gnSNij08Ar3rcWDxcE63d0bxBha", "avr_xyzXYZ123", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_x"]
    logging.getLogger(logger).error("Exception while serving /checkout/%s: %s", token, " ".join(
        ["Bearer " + secrets[3], *secrets[1:]]))
    assert "/checkout/[redacted]" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text


def test_sqlite_database_wal_and_shm_are_created_0600(tmp_path):
    from avycenna import create_app
    from avycenna.db import database
    from avycenna.migrate import upgrade

    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "k" * 40,
                      "DATABASE_URL": "sqlite:///" + str(instance / "avycenna.sqlite3")})
    try:
        with app.app_context():
            upgrade()
            with database.obj.connection_context():
                from avycenna.auth.users import create_user
                create_user("someone@example.test", role="member")
                files = [instance / name for name in ("avycenna.sqlite3", "avycenna.sqlite3-wal",
                                                      "avycenna.sqlite3-shm")]
                for path in files:
                    assert path.exists(), path
                    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    finally:
        database.obj.close_all()


def test_an_older_world_readable_database_is_narrowed_to_0600(tmp_path):
    from avycenna.db import make_database

    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    make_database("sqlite:///" + str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
