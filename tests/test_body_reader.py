"""One body reader: the strict reader parses a request's body once; everything else reads its result.

Named rate limits' key functions, idempotency, `request.get_json` and the views all read
the same parse. A body the reader refuses is answered by the view's error path (400/413/422
in the API's JSON shape) and never reaches flask-limiter as an exception — which would make
it log "Rate limit storage unreachable" and split the shared Redis budgets into one per
process. The autouse guard in conftest.py (`one_body_reader`) fails any test in which
something else parses a request body.
"""
import json
import logging
import os
import uuid

import flask
import pytest

from avycenna import jsonbody
from avycenna.errors import ApiError
from tests.agent_helpers import QUERY
from tests.conftest import free_port
from tests.test_auth_ratelimits import start_server

NESTED_OPEN = b"[" * 2000
NESTED_CLOSED = b"[" * 2000 + b"]" * 2000
TOO_DEEP = "JSON nested more than 32 levels deep."
FALLBACK = "falling back to in-memory storage"
# The routes whose named budgets are keyed on something in the body.
BODY_KEYED = ("/api/v1/auth/login", "/api/v1/auth/otp/send", "/api/v1/agent/query")


def post(client, path, data, **kwargs):
    return client.post(path, data=data, content_type="application/json", **kwargs)


def assert_detail(response, status, detail):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json() == {"detail": detail}


def limiter_fell_back(caplog):
    from avycenna.ratelimit import limiter

    return limiter._storage_dead or any(FALLBACK in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("body", [NESTED_OPEN, NESTED_CLOSED], ids=["open", "closed"])
@pytest.mark.parametrize("path", BODY_KEYED)
def test_a_deeply_nested_body_is_a_400_and_the_limiter_keeps_its_storage(client, caplog, path, body):
    caplog.set_level(logging.INFO)
    assert_detail(post(client, path, body), 400, TOO_DEEP)
    assert not limiter_fell_back(caplog)
    # With an Idempotency-Key too (it hashes the body to find its record).
    r = post(client, path, body, headers={"Idempotency-Key": "retry-" + uuid.uuid4().hex})
    assert_detail(r, 400, TOO_DEEP)
    assert not limiter_fell_back(caplog)


@pytest.mark.parametrize("path", BODY_KEYED)
def test_a_body_over_the_size_limit_is_a_json_413_without_a_limiter_fallback(app, client, caplog, path):
    caplog.set_level(logging.INFO)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = json.dumps({"email": "a@example.test", "password": "x" * 2000, "query": QUERY}).encode()
    assert_detail(post(client, path, body), 413, "Request body too large.")
    assert not limiter_fell_back(caplog)


@pytest.mark.parametrize("body", [NESTED_OPEN, b'{"email": NaN}', b"\xff\xfe", b'{"email": "a@b.co",'])
def test_a_refused_body_still_spends_the_signin_budget_of_its_address(app, client, caplog, body):
    """The per-address budget counts hostile bodies too; the per-account one (keyed on the
    posted address) falls back to the client's address rather than failing."""
    caplog.set_level(logging.INFO)
    app.config["RATELIMIT_AUTH"] = "3/minute"
    statuses = [post(client, "/api/v1/auth/login", body).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    r = client.post("/api/v1/auth/login", json={"email": "a@example.test", "password": "x"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other = client.post("/api/v1/auth/login", json={"email": "a@example.test", "password": "x"},
                        environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 401
    assert not limiter_fell_back(caplog)


def test_the_otp_budgets_count_refused_bodies_per_address(app, client):
    app.config["RATELIMIT_OTP_IP"] = "2/hour"
    assert [post(client, "/api/v1/auth/otp/send", NESTED_CLOSED).status_code for _ in range(2)] == [400, 400]
    assert post(client, "/api/v1/auth/otp/send", NESTED_CLOSED).status_code == 429


def test_get_json_answers_from_the_strict_reader(app):
    """Flask sets `app.json` as each request's `json_module`; the app's request class keeps
    the strict reader, so any library calling `request.get_json` gets the same bounded parse."""
    for body, status in [(b'{"a": NaN}', 400), (NESTED_CLOSED, 400), (b'{"a": 1, "a": 2}', 400),
                         (b'{"a": "\\u0000"}', 422)]:
        with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
            with pytest.raises(ApiError) as refused:
                flask.request.get_json()
            assert refused.value.code == status
            assert flask.request.get_json(silent=True) is None
            assert jsonbody.request_body_or_none() is None
            with pytest.raises(ApiError):
                jsonbody.request_body()


def test_a_body_is_parsed_once_and_every_reader_gets_that_parse(app, monkeypatch):
    calls = []
    real = jsonbody.loads
    monkeypatch.setattr(jsonbody, "loads", lambda data: calls.append(data) or real(data))
    with app.test_request_context("/", method="POST", data=b'{"a": [1, 2]}', content_type="application/json"):
        first = jsonbody.request_body()
        assert first == {"a": [1, 2]}
        assert flask.request.get_json() is first
        assert flask.request.json is first
        assert flask.request.get_json(force=True, cache=False) is first
        assert jsonbody.request_body_or_none() is first
    assert len(calls) == 1


def test_a_sign_in_and_an_agent_query_each_parse_their_body_once(app, client, monkeypatch):
    calls = []
    real = jsonbody.loads
    monkeypatch.setattr(jsonbody, "loads", lambda data: calls.append(data) or real(data))
    r = client.post("/api/v1/auth/login", json={"email": "a@example.test", "password": "x"})
    assert r.status_code == 401 and len(calls) == 1
    r = client.post("/api/v1/agent/query", json={"query": QUERY},
                    headers={"Idempotency-Key": "once-" + uuid.uuid4().hex})
    assert r.status_code < 300, r.get_data(as_text=True)
    assert len(calls) == 2


def test_a_form_post_is_not_read_as_json(app):
    with app.test_request_context("/", method="POST", data={"email": "a@example.test"}):
        assert jsonbody.request_body_or_none() is None
        assert flask.request.get_json(silent=True) is None
        assert flask.request.form["email"] == "a@example.test"


def test_a_key_function_that_fails_keys_on_the_address(app, caplog):
    from avycenna.ratelimit import ip_key, never_raises

    def broken_key():
        raise RecursionError("deep")

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.9"}):
        assert never_raises(broken_key)() == "unkeyed:" + ip_key()
    assert "broken_key failed (RecursionError)" in caplog.text


def test_the_guard_catches_any_other_parse_of_the_body(app, one_body_reader):
    """The conftest guard: `json.loads`/Flask's JSON on the raw body outside the strict
    reader is a violation; the strict reader, and JSON that is not the body, are not."""
    raw = b'{"email": "a@example.test"}'
    with app.test_request_context("/", method="POST", data=raw, content_type="application/json"):
        assert jsonbody.request_body() == {"email": "a@example.test"}
        assert json.loads('{"other": "json"}') == {"other": "json"}
        assert one_body_reader.violations == []
        with app.test_request_context("/", method="POST", data=raw, content_type="text/plain"):
            json.loads(flask.request.get_data())
            app.json.loads(flask.request.get_data(as_text=True))
    assert len(one_body_reader.violations) == 2
    one_body_reader.violations.clear()


def test_a_hostile_body_leaves_the_redis_budgets_shared(app, app_config, redis_url, database_url, tmp_path):
    """Two server processes on one Redis: a deeply nested sign-in body is a 400 on the first,
    its hit lands in the shared budget, later hits of both processes count together, and
    neither logs a fallback to memory."""
    if not redis_url:
        pytest.skip("set AVYCENNA_TEST_REDIS_URL to run the shared-storage test")
    import requests

    env = dict(os.environ, AVYCENNA_INSTANCE_PATH=str(tmp_path / "shared-instance"),
               AVYCENNA_SECRET_KEY=app_config["SECRET_KEY"], DATABASE_URL=database_url,
               RATELIMIT_STORAGE_URI=redis_url, AVYCENNA_RATELIMIT_AUTH="4/minute",
               AVYCENNA_RATELIMIT_KEY_PREFIX="avytest-body-" + uuid.uuid4().hex)
    servers, logs = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append((start_server(env, port), f"http://127.0.0.1:{port}/api/v1/auth/login"))
        (_, first), (_, second) = servers
        wrong = {"email": "nobody@example.test", "password": "wrong password"}
        with requests.Session() as http:
            r = http.post(first, data=NESTED_OPEN, headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and r.json() == {"detail": TOO_DEEP}
            statuses = [http.post(url, json=wrong).status_code for url in (second, first, second)]
            assert statuses == [401, 401, 401]
            for url in (first, second):
                r = http.post(url, json=wrong)
                assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    finally:
        for proc, _ in servers:
            proc.terminate()
            logs.append(proc.communicate()[1])
    assert not any(FALLBACK in log or "unreachable" in log for log in logs), logs


def test_every_api_blueprint_reads_bodies_with_the_strict_parser(app):
    """A resource built on flask-smorest's own Blueprint would parse its arguments with
    webargs' json.loads: every one must be ours (found in the app, not listed by hand)."""
    import flask_smorest

    from avycenna.blueprint import Blueprint

    smorest = [bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)]
    assert len(smorest) >= 10
    assert [bp.name for bp in smorest if not isinstance(bp, Blueprint)] == []
