"""Rate-limit headers on every API response, the moving window, and proxy trust."""
import time_machine

import pytest


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ANONYMOUS"] = "3/minute"
    return app_config


def test_headers_on_api_responses(client):
    r = client.get("/api/v1/auth/me")
    assert r.headers["X-RateLimit-Limit"] == "3"
    assert r.headers["X-RateLimit-Remaining"] == "2"
    assert int(r.headers["X-RateLimit-Reset"]) > 0


def test_no_double_burst_at_window_boundary(app):
    client = app.test_client()
    with time_machine.travel("2026-11-22 10:00:58Z", tick=False) as clock:
        for _ in range(3):
            assert client.get("/api/v1/auth/me").status_code == 401
        clock.move_to("2026-11-22 10:01:02Z")  # a fixed window would reset here
        assert client.get("/api/v1/auth/me").status_code == 429
        clock.move_to("2026-11-22 10:01:59Z")  # a full minute after the first requests
        assert client.get("/api/v1/auth/me").status_code == 401


def test_forwarded_for_not_trusted_by_default(client):
    for i in range(3):
        client.get("/api/v1/auth/me", headers={"X-Forwarded-For": f"10.0.0.{i}"})
    assert client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.0.0.99"}).status_code == 429


def test_forwarded_for_trusted_with_trusted_proxies(app_config):
    from avycenna import create_app

    app_config["TRUSTED_PROXIES"] = 1
    client = create_app(app_config).test_client()
    for i in range(3):
        client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.0.0.1"})
    assert client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    assert client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 401


def test_request_id_echoed_when_sane_and_made_otherwise(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert made != "bad id <script>" and len(made) == 32


def test_unreachable_redis_falls_back_to_memory_instead_of_failing(app_config):
    from avycenna import create_app

    app_config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # nothing listens there
    client = create_app(app_config).test_client()
    statuses = [client.get("/api/v1/auth/me").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
