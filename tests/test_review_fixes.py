"""Contract points a black-box review caught: one budget per credential across routes,
Retry-After only when backing off, stray bearer tokens, per-endpoint cursors, the seed's
Quick Start step 4 for a member, and list shapes."""
import pytest

from tests.agent_helpers import ask


@pytest.fixture
def app_config(app_config):
    app_config.update(RATELIMIT_JWT="3/minute")
    return app_config


def test_one_budget_per_user_across_routes(client, make_user, token_for):
    headers = token_for(make_user())
    for url in ("/api/v1/auth/me", "/api/v1/patients", "/api/v1/encounters"):
        assert client.get(url, headers=headers).status_code == 200
    r = client.get("/api/v1/api-keys", headers=headers)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_retry_after_only_on_429(client, make_user, token_for):
    r = client.get("/api/v1/auth/me", headers=token_for(make_user()))
    assert r.status_code == 200 and "X-RateLimit-Limit" in r.headers and "Retry-After" not in r.headers


@pytest.mark.parametrize("token", ["garbage", "0" * 64])
def test_a_stray_bearer_is_401_on_anonymous_endpoints(client, token):
    for url in ("/api/v1/plans", "/api/v1/consents/telehealth", "/api/v1/wearables/types"):
        r = client.get(url, headers={"Authorization": "Bearer " + token})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), url
    assert client.get("/health", headers={"Authorization": "Bearer " + token}).status_code == 200


def test_bad_encounter_token_is_401_before_the_body_is_read(client):
    enc = ask(client).get_json()["encounter_id"]
    r = client.post(f"/api/v1/agent/encounters/{enc}/messages", json={},
                    headers={"Authorization": "Bearer " + "0" * 64})
    assert r.status_code == 401


def test_a_cursor_only_works_on_its_own_list(client, make_user, key_for):
    from tests.agent_helpers import add_patient

    headers = key_for(make_user())
    for name in ("A", "B"):
        add_patient(client, headers, relationship="child", name=name)
    cursor = client.get("/api/v1/patients?limit=1", headers=headers).get_json()["next_cursor"]
    assert client.get(f"/api/v1/patients?limit=1&cursor={cursor}", headers=headers).status_code == 200
    r = client.get(f"/api/v1/encounters?cursor={cursor}", headers=headers)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["query", "cursor"]


def test_quick_start_step_4_works_for_a_new_member(client, make_user, token_for):
    r = client.get("/api/v1/grants/outgoing", headers=token_for(make_user()))
    assert r.status_code == 200 and r.get_json() == {"data": [], "next_cursor": None}


def test_reference_lists_have_the_list_shape(client):
    for url in ("/api/v1/plans", "/api/v1/wearables/types"):
        body = client.get(url).get_json()
        assert set(body) == {"data", "next_cursor"} and body["data"] and body["next_cursor"] is None


def test_unrouted_api_requests_carry_headers_and_count(client, make_user, token_for):
    headers = token_for(make_user())
    first = client.get("/api/v1/no-such-thing", headers=headers)
    second = client.delete("/api/v1/auth/me", headers=headers)
    assert (first.status_code, second.status_code) == (404, 405)
    assert first.headers["X-RateLimit-Limit"] == "3" and first.headers["X-RateLimit-Remaining"] == "2"
    assert second.headers["X-RateLimit-Remaining"] == "1"
    assert client.get("/api/v1/auth/me", headers=headers).headers["X-RateLimit-Remaining"] == "0"
