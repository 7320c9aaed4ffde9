"""Admin user management: list, create, change, disable (which stops every credential)."""
import pytest

from avycenna.audit.models import AuditEvent


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", email="admin@example.test")


@pytest.fixture
def admin_headers(admin, token_for):
    return token_for(admin)


def test_admin_creates_a_clinician_who_can_sign_in(client, admin_headers):
    r = client.post("/api/v1/admin/users", headers=admin_headers,
                    json={"email": "Doc@Example.test", "role": "clinician", "name": "Dr. Chen",
                          "password": "clinician password"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["email"] == "doc@example.test" and body["role"] == "clinician" and body["is_active"] is True
    assert "password" not in body and "password_hash" not in body
    login = client.post("/api/v1/auth/login", json={"email": "doc@example.test", "password": "clinician password"})
    assert login.status_code == 200


def test_duplicate_email_is_409(client, admin_headers):
    body = {"email": "admin@example.test", "role": "clinician"}
    assert client.post("/api/v1/admin/users", headers=admin_headers, json=body).status_code == 409


def test_unknown_role_is_422(client, admin_headers):
    r = client.post("/api/v1/admin/users", headers=admin_headers, json={"email": "x@example.test", "role": "root"})
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "role"]


@pytest.mark.parametrize("role", ["member", "clinician"])
def test_non_admins_are_403(client, make_user, token_for, role):
    headers = token_for(make_user(role=role))
    assert client.get("/api/v1/admin/users", headers=headers).status_code == 403
    assert client.post("/api/v1/admin/users", headers=headers,
                       json={"email": "x@example.test", "role": "admin"}).status_code == 403


def test_anonymous_is_401(client):
    assert client.get("/api/v1/admin/users").status_code == 401


def test_list_is_paginated_and_filters_by_role(client, make_user, admin_headers):
    for _ in range(3):
        make_user(role="clinician")
    make_user(role="member")
    r = client.get("/api/v1/admin/users?role=clinician&limit=2", headers=admin_headers)
    page = r.get_json()
    assert r.status_code == 200 and len(page["data"]) == 2 and page["next_cursor"]
    rest = client.get(f"/api/v1/admin/users?role=clinician&limit=2&cursor={page['next_cursor']}",
                      headers=admin_headers).get_json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    ids = {u["id"] for u in page["data"] + rest["data"]}
    assert len(ids) == 3
    everyone = client.get("/api/v1/admin/users", headers=admin_headers).get_json()["data"]
    assert {u["role"] for u in everyone} == {"admin", "clinician", "member"}
    assert client.get("/api/v1/admin/users?role=root", headers=admin_headers).status_code == 422


def test_disabling_stops_tokens_keys_and_refresh_at_once(client, app, make_user, token_for, key_for, admin_headers):
    make_user(email="pat@example.test", password="member password")
    tokens = client.post("/api/v1/auth/login",
                         json={"email": "pat@example.test", "password": "member password"}).get_json()
    jwt_headers = {"Authorization": "Bearer " + tokens["access_token"]}
    user_id = client.get("/api/v1/auth/me", headers=jwt_headers).get_json()["id"]
    from avycenna.auth.models import User
    with app.app_context():
        key_headers = key_for(User.get_by_id(user_id))
    assert client.get("/api/v1/auth/me", headers=key_headers).status_code == 200

    r = client.patch(f"/api/v1/admin/users/{user_id}", headers=admin_headers, json={"is_active": False})
    assert r.status_code == 200 and r.get_json()["is_active"] is False and r.get_json()["disabled_at"]

    assert client.get("/api/v1/auth/me", headers=jwt_headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=key_headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/login",
                       json={"email": "pat@example.test", "password": "member password"}).status_code == 401
    with app.app_context():
        [event] = AuditEvent.select().where(AuditEvent.action == "user.disable")
    assert event.target_id == user_id and event.actor_type == "user"

    r = client.patch(f"/api/v1/admin/users/{user_id}", headers=admin_headers, json={"is_active": True})
    assert r.get_json()["is_active"] is True and r.get_json()["disabled_at"] is None
    assert client.get("/api/v1/auth/me", headers=key_headers).status_code == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_change_role_and_name(client, make_user, admin_headers, token_for):
    user = make_user(role="member")
    r = client.patch(f"/api/v1/admin/users/{user.id}", headers=admin_headers,
                     json={"role": "clinician", "name": "Dr. New"})
    assert r.status_code == 200 and r.get_json()["role"] == "clinician" and r.get_json()["name"] == "Dr. New"
    assert client.get("/api/v1/auth/me", headers=token_for(user)).get_json()["role"] == "clinician"


def test_admin_cannot_disable_or_demote_themself(client, admin, admin_headers):
    for body in ({"is_active": False}, {"role": "member"}):
        r = client.patch(f"/api/v1/admin/users/{admin.id}", headers=admin_headers, json=body)
        assert r.status_code == 409, body
    assert client.get("/api/v1/auth/me", headers=admin_headers).status_code == 200


def test_unknown_user_is_404(client, admin_headers):
    r = client.patch("/api/v1/admin/users/usr_nope", headers=admin_headers, json={"name": "x"})
    assert r.status_code == 404 and r.get_json() == {"detail": "User not found."}
