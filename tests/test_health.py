"""GET /health: no auth, no rate limit, 503 when the database is gone."""
import re

import pytest

from avycenna.db import database


def test_health_reports_version_and_utc_timestamp(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "healthy" and body["version"] == "1.0.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["timestamp"])


def test_health_is_not_rate_limited(app_config):
    from avycenna import create_app

    app_config["RATELIMIT_ANONYMOUS"] = "2/minute"
    client = create_app(app_config).test_client()
    assert all(client.get("/health").status_code == 200 for _ in range(5))


@pytest.fixture
def broken_db_app(app_config, tmp_path):
    from avycenna import create_app

    (tmp_path / "not-a-dir").write_text("")
    if app_config["DATABASE_URL"].startswith("sqlite"):
        app_config["DATABASE_URL"] = "sqlite:///" + str(tmp_path / "not-a-dir" / "db.sqlite3")
    else:
        app_config["DATABASE_URL"] = "postgresql://127.0.0.1:1/nothing"
    yield create_app(app_config)
    database.close() if not database.is_closed() else None


def test_health_is_503_when_database_unreachable(broken_db_app):
    r = broken_db_app.test_client().get("/health")
    assert r.status_code == 503
    assert r.get_json()["status"] == "unhealthy"
