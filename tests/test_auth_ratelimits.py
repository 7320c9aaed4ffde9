"""Per-credential budgets (default numbers), the sign-in budget, and sharing through Redis."""
import os
import subprocess
import sys
import uuid

import pytest
import time_machine

from tests.conftest import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_default_budgets_per_credential(client, make_user, token_for, key_for):
    user = make_user()
    anonymous = client.get("/api/v1/auth/me")
    jwt = client.get("/api/v1/auth/me", headers=token_for(user))
    key = client.get("/api/v1/auth/me", headers=key_for(user))
    signin = client.post("/api/v1/auth/refresh", json={"refresh_token": "avr_x"})
    assert anonymous.headers["X-RateLimit-Limit"] == "60"
    assert jwt.headers["X-RateLimit-Limit"] == "100"
    assert key.headers["X-RateLimit-Limit"] == "1000"
    assert signin.headers["X-RateLimit-Limit"] == "20"


def test_the_101st_jwt_request_in_a_minute_is_429(client, make_user, token_for):
    with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
        headers = token_for(make_user())
        for i in range(100):
            clock.move_to(f"2026-11-22 10:00:{i * 0.5:06.3f}Z")
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 200, i
        r = client.get("/api/v1/auth/me", headers=headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.headers["X-RateLimit-Remaining"] == "0"
        # Another user's budget is their own.
        assert client.get("/api/v1/auth/me", headers=token_for(make_user())).status_code == 200


def test_api_key_budget_is_per_key(client, app, make_user, key_for):
    app.config["RATELIMIT_API_KEY"] = "3/minute"
    user = make_user()
    first, second = key_for(user), key_for(user)
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=first).status_code == 200
    assert client.get("/api/v1/auth/me", headers=first).status_code == 429
    assert client.get("/api/v1/auth/me", headers=second).status_code == 200


def test_signin_endpoints_share_a_tighter_per_ip_budget(client, make_user, token_for):
    for i in range(20):
        path = ("/api/v1/auth/otp/verify", "/api/v1/auth/refresh")[i % 2]
        body = {"email": "a@example.test", "otp": "123456"} if i % 2 == 0 else {"refresh_token": "avr_x"}
        assert client.post(path, json=body).status_code == 401, i
    r = client.post("/api/v1/auth/login", json={"email": "a@example.test", "password": "x"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other_ip = {"REMOTE_ADDR": "127.0.0.2"}
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": "avr_x"},
                       environ_base=other_ip).status_code == 401
    # /auth/me is an account endpoint: it keeps the caller's own budget.
    assert client.get("/api/v1/auth/me", headers=token_for(make_user())).status_code == 200


def start_server(env, port):
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--threads", "2"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # waitress logs "Serving on …" once the socket listens
        seen.append(line)
        if "Serving on" in line:
            return proc
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(seen))


def stop_server(proc):
    proc.terminate()
    proc.wait()
    proc.stderr.close()


def test_two_processes_share_one_budget_on_redis(app, app_config, redis_url, database_url, tmp_path):
    if not redis_url:
        pytest.skip("set AVYCENNA_TEST_REDIS_URL to run the shared-storage test")
    import requests

    env = dict(os.environ, AVYCENNA_INSTANCE_PATH=str(tmp_path / "shared-instance"),
               AVYCENNA_SECRET_KEY=app_config["SECRET_KEY"], DATABASE_URL=database_url,
               RATELIMIT_STORAGE_URI=redis_url, AVYCENNA_RATELIMIT_ANONYMOUS="5/minute",
               AVYCENNA_RATELIMIT_KEY_PREFIX="avytest-shared-" + uuid.uuid4().hex, AVYCENNA_DRAIN_SECONDS="0")
    servers = []
    try:
        for _ in range(2):
            port = free_port()
            servers.append((start_server(env, port), f"http://127.0.0.1:{port}"))
        bases = [base for _, base in servers]
        with requests.Session() as http:
            remaining = []
            for i in range(5):
                r = http.get(bases[i % 2] + "/api/v1/auth/me")
                assert r.status_code == 401
                remaining.append(r.headers["X-RateLimit-Remaining"])
            assert remaining == ["4", "3", "2", "1", "0"]
            for base in bases:
                r = http.get(base + "/api/v1/auth/me")
                assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    finally:
        for proc, _ in servers:
            stop_server(proc)
