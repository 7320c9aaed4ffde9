"""API keys: create once, list, accepted in both headers, revoked at once, owner disabled."""
import re

from avycenna.api_keys.models import ApiKey
from avycenna.api_keys.secrets import ALPHABET, checksum, looks_valid
from avycenna.audit.models import AuditEvent
from avycenna.auth.models import User


def create(client, headers, name="sync script"):
    return client.post("/api/v1/api-keys", headers=headers, json={"name": name})


def test_create_shows_the_full_key_once(client, app, make_user, token_for):
    headers = token_for(make_user())
    r = create(client, headers)
    assert r.status_code == 201
    body = r.get_json()
    key = body["key"]
    assert re.fullmatch(r"avk_[0-9A-Za-z]{28}", key) and looks_valid(key)
    assert body["prefix"] == key[:12] and body["id"].startswith("key_")
    listed = client.get("/api/v1/api-keys", headers=headers).get_json()
    assert listed["next_cursor"] is None
    assert [set(k) for k in listed["data"]] == [{"id", "name", "prefix", "created_at", "last_used_at"}]
    assert key not in str(listed)
    with app.app_context():
        assert key not in str(ApiKey.get().__data__)


def test_key_has_128_bits_and_an_offline_checksum():
    body = "A" * 22
    assert len(ALPHABET) ** 22 > 2 ** 128
    assert checksum(body) != checksum("B" + body[1:])
    assert not looks_valid("avk_" + body + "000000")


def test_list_is_paginated_and_only_your_own(client, make_user, token_for):
    mine, theirs = token_for(make_user()), token_for(make_user())
    for i in range(3):
        create(client, mine, name=f"k{i}")
    create(client, theirs)
    page = client.get("/api/v1/api-keys?limit=2", headers=mine).get_json()
    rest = client.get(f"/api/v1/api-keys?limit=2&cursor={page['next_cursor']}", headers=mine).get_json()
    assert [k["name"] for k in page["data"] + rest["data"]] == ["k0", "k1", "k2"]
    assert rest["next_cursor"] is None


def test_key_accepted_as_x_api_key_and_as_bearer(client, make_user, token_for):
    user = make_user()
    key = create(client, token_for(user)).get_json()["key"]
    for headers in ({"X-API-Key": key}, {"Authorization": "Bearer " + key}):
        r = client.get("/api/v1/auth/me", headers=headers)
        assert r.status_code == 200 and r.get_json()["id"] == user.id
    listed = client.get("/api/v1/api-keys", headers={"X-API-Key": key}).get_json()["data"]
    assert listed[0]["last_used_at"].endswith("Z")


def test_deleted_key_is_401_at_once(client, app, make_user, token_for):
    headers = token_for(make_user())
    created = create(client, headers).get_json()
    assert client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]}).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{created['id']}", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.delete(f"/api/v1/api-keys/{created['id']}", headers=headers).status_code == 404
    with app.app_context():
        actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.at)]
    assert actions.count("api_key.create") == 1 and actions.count("api_key.delete") == 1


def test_someone_elses_key_cannot_be_deleted(client, make_user, token_for):
    created = create(client, token_for(make_user())).get_json()
    assert client.delete(f"/api/v1/api-keys/{created['id']}", headers=token_for(make_user())).status_code == 404


def test_keys_of_a_disabled_user_are_401(client, app, make_user, key_for):
    user = make_user()
    headers = key_for(user)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with app.app_context():
        User.update(is_active=False).where(User.id == user.id).execute()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_the_key_never_reaches_the_audit_log_or_server_log(client, app, make_user, token_for, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    headers = token_for(make_user())
    created = create(client, headers).get_json()
    client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]})
    client.delete(f"/api/v1/api-keys/{created['id']}", headers=headers)
    client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]})
    with app.app_context():
        rows = [str(e.__data__) for e in AuditEvent.select()]
    assert rows and all(created["key"] not in row for row in rows)
    assert created["key"] not in caplog.text
