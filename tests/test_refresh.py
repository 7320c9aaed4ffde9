"""Refresh tokens: rotation, reuse detection, logout, expiry, disabled accounts."""
import pytest
import time_machine

from avycenna.audit.models import AuditEvent
from avycenna.auth.models import RefreshToken, User

PASSWORD = "correct horse battery"


@pytest.fixture
def user(make_user):
    return make_user(email="pat@example.test", password=PASSWORD)


def sign_in(client):
    r = client.post("/api/v1/auth/login", json={"email": "pat@example.test", "password": PASSWORD})
    assert r.status_code == 200
    return r.get_json()


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def logout(client, token, **body):
    return client.post("/api/v1/auth/logout", json={"refresh_token": token, **body})


def test_refresh_rotates(client, user):
    first = sign_in(client)["refresh_token"]
    r = refresh(client, first)
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["refresh_token"] != first
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + body["access_token"]}).status_code == 200
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_refresh_tokens_are_stored_hashed(client, app, user):
    token = sign_in(client)["refresh_token"]
    with app.app_context():
        row = RefreshToken.get()
    assert token not in str(row.__data__) and len(row.token_hash) == 64


def test_reused_refresh_token_revokes_the_whole_family(client, app, user):
    first = sign_in(client)["refresh_token"]
    other_sign_in = sign_in(client)["refresh_token"]
    second = refresh(client, first).get_json()["refresh_token"]
    r = refresh(client, first)  # an attacker replays the copied token
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid or expired refresh token."}
    assert refresh(client, second).status_code == 401  # the legitimate holder is out too
    assert refresh(client, other_sign_in).status_code == 200  # other sign-ins are untouched
    with app.app_context():
        [event] = AuditEvent.select().where(AuditEvent.action == "auth.refresh_reuse")
    assert event.actor_user_id == user.id and event.outcome == "denied" and event.ip_hash


def test_unknown_refresh_token_is_401(client, user):
    assert refresh(client, "avr_not-a-real-token").status_code == 401


def test_refresh_token_expires_after_30_days(client, user):
    with time_machine.travel("2026-11-01 10:00:00Z", tick=False) as clock:
        token = sign_in(client)["refresh_token"]
        clock.move_to("2026-12-01 09:59:59Z")
        token = refresh(client, token).get_json()["refresh_token"]  # rotation starts a new 30 days
        clock.move_to("2026-12-31 10:00:00Z")
        assert refresh(client, token).status_code == 401


def test_logout_revokes_one_family(client, user):
    here, elsewhere = sign_in(client)["refresh_token"], sign_in(client)["refresh_token"]
    assert logout(client, here).status_code == 204
    assert refresh(client, here).status_code == 401
    assert refresh(client, elsewhere).status_code == 200


def test_logout_everywhere_revokes_every_family(client, user):
    here, elsewhere = sign_in(client)["refresh_token"], sign_in(client)["refresh_token"]
    rotated = refresh(client, elsewhere).get_json()["refresh_token"]
    assert logout(client, here, everywhere=True).status_code == 204
    assert refresh(client, here).status_code == 401
    assert refresh(client, rotated).status_code == 401


def test_logout_with_unknown_token_is_401(client):
    assert logout(client, "avr_unknown").status_code == 401


def test_disabled_account_cannot_refresh(client, app, user):
    token = sign_in(client)["refresh_token"]
    with app.app_context():
        User.update(is_active=False).where(User.id == user.id).execute()
    assert refresh(client, token).status_code == 401
