"""Webhook endpoints over the API: register, list, read, change, delete; bad input; other accounts."""
import pytest

from tests.agent_helpers import db_read

HOOKS = "/api/v1/webhook-endpoints"
PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: no DNS, no traffic


@pytest.fixture
def member(make_user, token_for):
    return token_for(make_user())


def register(client, headers, **body):
    body.setdefault("url", PUBLIC_URL)
    r = client.post(HOOKS, json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_register_shows_the_secret_once_then_list_read_patch_delete(client, member):
    created = register(client, member, events=["encounter.answered"], description="our agent")
    assert created["id"].startswith("whe_") and created["secret"].startswith("whsec_")
    assert created["events"] == ["encounter.answered"] and created["status"] == "active"
    listed = client.get(HOOKS, headers=member).get_json()
    assert [e["id"] for e in listed["data"]] == [created["id"]] and listed["next_cursor"] is None
    assert "secret" not in listed["data"][0]
    one = client.get(f"{HOOKS}/{created['id']}", headers=member).get_json()
    assert "secret" not in one and one["description"] == "our agent"

    patched = client.patch(f"{HOOKS}/{created['id']}", json={"events": None, "description": "all"},
                           headers=member).get_json()
    assert patched["events"] == [] and patched["description"] == "all" and patched["url"] == PUBLIC_URL

    assert client.delete(f"{HOOKS}/{created['id']}", headers=member).status_code == 204
    assert client.get(f"{HOOKS}/{created['id']}", headers=member).status_code == 404


def test_the_secret_is_in_no_read_and_no_audit_event(app, client, member, make_user, token_for):
    """Stored to sign (see docs/webhooks.md), the secret is shown only when made or rotated."""
    from avycenna.audit.models import AuditEvent

    created = register(client, member)
    rotated = client.post(f"{HOOKS}/{created['id']}/rotate-secret", headers=member).get_json()
    reads = [client.get(HOOKS, headers=member), client.get(f"{HOOKS}/{created['id']}", headers=member),
             client.patch(f"{HOOKS}/{created['id']}", json={"description": "x"}, headers=member),
             client.post(f"{HOOKS}/{created['id']}/test", headers=member),
             client.get(f"{HOOKS}/{created['id']}/deliveries", headers=member)]
    audit = db_read(app, lambda: [repr(e.__data__) for e in AuditEvent.select()])
    for secret in (created["secret"], rotated["secret"]):
        for text in [r.get_data(as_text=True) for r in reads] + audit:
            assert secret[6:] not in text


def test_list_is_keyset_paginated(client, member):
    ids = [register(client, member)["id"] for _ in range(3)]
    first = client.get(HOOKS + "?limit=2", headers=member).get_json()
    second = client.get(HOOKS + f"?limit=2&cursor={first['next_cursor']}", headers=member).get_json()
    assert [e["id"] for e in first["data"] + second["data"]] == ids and second["next_cursor"] is None


@pytest.mark.parametrize("body, loc", [
    ({}, ["body", "url"]),
    ({"url": "ftp://93.184.215.14/x"}, ["body", "url"]),
    ({"url": "not a url"}, ["body", "url"]),
    ({"url": "https://user:pw@93.184.215.14/x"}, ["body", "url"]),
    ({"url": PUBLIC_URL, "events": ["encounter.exploded"]}, ["body", "events", "0"]),
    ({"url": PUBLIC_URL, "description": "x" * 501}, ["body", "description"]),
    ({"url": PUBLIC_URL, "secret": "whsec_mine"}, ["body", "secret"]),
])
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(client, member, body, loc):
    r = client.post(HOOKS, json=body, headers=member)
    assert r.status_code == 422, r.get_json()
    assert [str(p) for p in r.get_json()["detail"][0]["loc"]] == loc
    assert client.get(HOOKS, headers=member).get_json()["data"] == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://172.16.5.4/hook", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook", "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook", "http://does-not-exist.invalid/hook",
])
def test_private_loopback_link_local_and_metadata_targets_are_refused(client, member, url):
    r = client.post(HOOKS, json={"url": url}, headers=member)
    assert r.status_code == 422
    assert r.get_json()["detail"][0]["loc"] == ["body", "url"]


def test_an_admin_can_allow_a_named_lan_host(app, client, member):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "ehr.clinic.lan, 127.0.0.1"
    assert register(client, member, url="http://127.0.0.1:8080/hook")["url"] == "http://127.0.0.1:8080/hook"
    assert client.post(HOOKS, json={"url": "http://10.0.0.7/"}, headers=member).status_code == 422


def test_patching_to_a_private_url_is_refused_and_changes_nothing(client, member):
    created = register(client, member)
    r = client.patch(f"{HOOKS}/{created['id']}", json={"url": "http://10.0.0.1/"}, headers=member)
    assert r.status_code == 422
    assert client.get(f"{HOOKS}/{created['id']}", headers=member).get_json()["url"] == PUBLIC_URL


def test_another_accounts_endpoint_is_a_404_everywhere(client, member, make_user, token_for):
    created = register(client, member)
    other = token_for(make_user())
    base = f"{HOOKS}/{created['id']}"
    assert client.get(base, headers=other).status_code == 404
    assert client.patch(base, json={"description": "mine now"}, headers=other).status_code == 404
    assert client.delete(base, headers=other).status_code == 404
    assert client.post(base + "/test", headers=other).status_code == 404
    assert client.get(base + "/deliveries", headers=other).status_code == 404
    delivery = client.post(base + "/test", headers=member).get_json()
    assert client.post(f"{base}/deliveries/{delivery['id']}/retry", headers=other).status_code == 404
    assert client.post(f"{base}/deliveries/whd_nope/retry", headers=member).status_code == 404
    assert client.get(HOOKS, headers=other).get_json()["data"] == []
    assert client.get(base, headers=member).get_json()["description"] is None


def test_anonymous_and_encounter_token_callers_are_401(client):
    assert client.get(HOOKS).status_code == 401
    assert client.post(HOOKS, json={"url": PUBLIC_URL}).status_code == 401


def test_test_event_is_queued_and_logged(client, member):
    created = register(client, member)
    r = client.post(f"{HOOKS}/{created['id']}/test", headers=member)
    assert r.status_code == 202
    delivery = r.get_json()
    assert delivery["event_type"] == "webhook.test" and delivery["status"] == "pending"
    assert delivery["webhook_id"].startswith("whm_") and delivery["attempts"] == 0
    log = client.get(f"{HOOKS}/{created['id']}/deliveries", headers=member).get_json()
    assert [d["id"] for d in log["data"]] == [delivery["id"]]
    assert client.get(f"{HOOKS}/{created['id']}/deliveries?status=delivered",
                      headers=member).get_json()["data"] == []
    assert client.get(f"{HOOKS}/{created['id']}/deliveries?status=nope", headers=member).status_code == 422
