"""GET /health/ready: 200 when the database, the rate limits' Redis and the queue are usable;
503 naming the part that is not, never a hung probe; /health itself unchanged."""
import socket
import time

import pytest

from avycenna import readiness
from avycenna.db import database

# A closed port on loopback: a Redis there refuses at once.
NOWHERE = "redis://127.0.0.1:1/0"


def ready(client):
    r = client.get("/health/ready")
    return r.status_code, r.get_json()


def test_ready_when_every_part_answers(client, redis_url):
    status, body = ready(client)
    assert status == 200 and body["status"] == "ready" and body["failing"] == []
    expected = {"database": "ok", "queue": "ok", "process": "serving"}
    if redis_url:
        expected["rate_limits"] = "ok"
    assert body["checks"] == expected
    assert body["version"] == "1.0.0" and body["timestamp"].endswith("Z")


def test_ready_takes_no_credential_and_no_budget(app, client):
    app.config["RATELIMIT_ANONYMOUS"] = "1/minute"
    for headers in ({}, {"Authorization": "Bearer not.a.jwt"}, {"X-API-Key": "avk_wrong"}):
        for _ in range(3):
            assert client.get("/health/ready", headers=headers).status_code == 200


@pytest.fixture
def make_app(app_config):
    from avycenna import create_app

    made = []

    def make(**config):
        made.append(create_app({**app_config, **config}))
        return made[-1]
    yield make
    database.close() if not database.is_closed() else None


def test_unreachable_rate_limit_redis_is_unready_yet_requests_are_served(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=NOWHERE)
    client = app.test_client()
    status, body = ready(client)
    assert status == 503 and body["status"] == "unready" and body["failing"] == ["rate_limits"]
    assert body["checks"]["rate_limits"].startswith("unreachable") and body["checks"]["database"] == "ok"
    # The budgets count in memory meanwhile: the process still answers.
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/health").status_code == 200  # liveness is not readiness


def test_an_optional_part_is_reported_but_keeps_the_process_ready(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=NOWHERE, READINESS_OPTIONAL_PARTS="rate_limits")
    status, body = ready(app.test_client())
    assert status == 200 and body["status"] == "ready" and body["failing"] == []
    assert body["checks"]["rate_limits"].startswith("unreachable")


def test_only_redis_parts_may_be_optional(make_app):
    with pytest.raises(ValueError, match="READINESS_OPTIONAL_PARTS"):
        make_app(READINESS_OPTIONAL_PARTS=["database"])


def test_unreachable_queue_is_unready(make_app):
    app = make_app(QUEUE_URL=NOWHERE)
    status, body = ready(app.test_client())
    assert status == 503 and body["failing"] == ["queue"]
    assert body["checks"]["queue"].startswith("unreachable")


def test_unreachable_database_is_unready(make_app, app_config, tmp_path):
    (tmp_path / "not-a-dir").write_text("")
    url = ("sqlite:///" + str(tmp_path / "not-a-dir" / "db.sqlite3") if app_config["DATABASE_URL"].startswith("sqlite")
           else "postgresql://127.0.0.1:1/nothing")
    status, body = ready(make_app(DATABASE_URL=url).test_client())
    assert status == 503 and "database" in body["failing"] and body["checks"]["database"] == "unreachable"


def test_a_redis_that_never_answers_is_no_answer_not_a_hung_probe(make_app, monkeypatch):
    """A Redis behind a cut link: the connection opens, nothing ever comes back (and the
    client's own REDIS_TIMEOUT is longer than the probe's)."""
    monkeypatch.setattr(readiness, "PROBE_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # never accepted, never answered
        port = silent.getsockname()[1]
        app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT=30)
        client = app.test_client()
        for _ in range(2):  # the second probe waits on the first question, still open
            started = time.monotonic()
            status, body = ready(client)
            assert time.monotonic() - started < 3
            assert status == 503 and body["checks"]["rate_limits"] == "no answer within 0.5 s"
