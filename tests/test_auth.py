"""Password login, access tokens and the attacks on them, and credential errors."""
import base64
import json
from datetime import timedelta

import jwt
import pytest
import time_machine

from avycenna.audit.models import AuditEvent
from avycenna.clock import utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def user(make_user):
    return make_user(email="doc@example.test", password=PASSWORD, role="clinician")


def login(client, email, password):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token):
    return {"Authorization": "Bearer " + token}


def me(client, token):
    return client.get("/api/v1/auth/me", headers=bearer(token))


def forge(app, user, alg="HS256", kid=None, **overrides):
    """A token signed with the server's real key but with chosen claims or algorithm."""
    from avycenna.auth.tokens import _signing_key

    now = utcnow()
    claims = {"sub": user.id, "role": user.role, "typ": "access", "iss": app.config["JWT_ISSUER"],
              "aud": app.config["JWT_AUDIENCE"], "iat": now, "exp": now + timedelta(minutes=15)}
    claims.update(overrides)
    kid = kid or app.config["JWT_KEY_ID"]
    with app.app_context():
        return jwt.encode(claims, _signing_key(kid), algorithm=alg, headers={"kid": kid})


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_login_returns_the_token_response(client, user):
    r = login(client, "doc@example.test", PASSWORD)
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["refresh_token"].startswith("avr_")
    assert me(client, body["access_token"]).get_json()["email"] == "doc@example.test"


def test_access_token_claims(client, app, user):
    token = login(client, "doc@example.test", PASSWORD).get_json()["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256" and header["kid"] == app.config["JWT_KEY_ID"]
    assert claims["sub"] == user.id and claims["typ"] == "access"
    assert claims["iss"] == app.config["JWT_ISSUER"] and claims["aud"] == app.config["JWT_AUDIENCE"]
    assert claims["exp"] - claims["iat"] == 900


def test_wrong_email_and_wrong_password_are_the_same_401(client, user, monkeypatch):
    from avycenna.auth import signin

    calls = []
    real = signin.verify_password
    monkeypatch.setattr(signin, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    wrong_email = login(client, "nobody@example.test", PASSWORD)
    wrong_password = login(client, "doc@example.test", "not the password")
    assert wrong_email.status_code == wrong_password.status_code == 401
    assert wrong_email.get_json() == wrong_password.get_json() == {"detail": "Incorrect e-mail or password."}
    assert wrong_email.headers.get("WWW-Authenticate") == wrong_password.headers.get("WWW-Authenticate")
    # Both paths run one argon2 verification (against a dummy hash for the unknown e-mail).
    assert len(calls) == 2


def test_password_is_stored_with_argon2(app, user):
    from avycenna.auth.models import User

    with app.app_context():
        assert User.get_by_id(user.id).password_hash.startswith("$argon2")


def test_account_without_password_cannot_password_login(client, make_user):
    make_user(email="otp-only@example.test")
    assert login(client, "otp-only@example.test", "").status_code == 422
    assert login(client, "otp-only@example.test", "anything").status_code == 401


def test_logins_are_audited_without_the_password(client, app, user):
    login(client, "doc@example.test", PASSWORD)
    login(client, "doc@example.test", "wrong password here")
    with app.app_context():
        rows = list(AuditEvent.select().where(AuditEvent.action == "auth.login").order_by(AuditEvent.at))
    assert [r.outcome for r in rows] == ["success", "failure"]
    assert all(r.actor_user_id == user.id and r.ip_hash and r.at for r in rows)
    assert all(PASSWORD not in str(r.__data__) for r in rows)


def test_tampered_jwt_is_401(client, app, user):
    token = forge(app, user)
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    r = me(client, ".".join([head, b64(claims), sig]))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_alg_none_is_401(client, app, user):
    claims = jwt.decode(forge(app, user), options={"verify_signature": False})
    token = b64({"alg": "none", "typ": "JWT", "kid": app.config["JWT_KEY_ID"]}) + "." + b64(claims) + "."
    assert me(client, token).status_code == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_hmac_algorithm_is_401_even_with_the_right_key(client, app, user):
    assert me(client, forge(app, user)).status_code == 200
    assert me(client, forge(app, user, alg="HS512")).status_code == 401


def test_rs256_header_is_401(client, app, user):
    head, payload, sig = forge(app, user).split(".")
    token = b64({"alg": "RS256", "typ": "JWT", "kid": app.config["JWT_KEY_ID"]}) + "." + payload + "." + sig
    assert me(client, token).status_code == 401


@pytest.mark.parametrize("claim", [{"typ": "refresh"}, {"typ": None}, {"aud": "someone-else"},
                                   {"iss": "another-issuer"}, {"sub": "usr_doesnotexist"}])
def test_wrong_claims_are_401(client, app, user, claim):
    assert me(client, forge(app, user, **claim)).status_code == 401


def test_refresh_token_is_not_an_access_token(client, user):
    tokens = login(client, "doc@example.test", PASSWORD).get_json()
    r = me(client, tokens["refresh_token"])
    assert r.status_code == 401 and "refresh token" in r.get_json()["detail"]


def test_expired_token_is_401(client, app, user):
    with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
        token = login(client, "doc@example.test", PASSWORD).get_json()["access_token"]
        clock.move_to("2026-11-22 10:14:59Z")
        assert me(client, token).status_code == 200
        clock.move_to("2026-11-22 10:15:01Z")
        r = me(client, token)
        assert r.status_code == 401 and r.get_json() == {"detail": "Invalid or expired token."}


def test_rotated_kid_verifies_while_accepted_then_stops(client, app, user):
    old = forge(app, user, kid="k1")
    app.config.update(JWT_KEY_ID="k2", JWT_ACCEPTED_KEY_IDS=["k1"])
    new = login(client, "doc@example.test", PASSWORD).get_json()["access_token"]
    assert jwt.get_unverified_header(new)["kid"] == "k2"
    assert me(client, old).status_code == 200 and me(client, new).status_code == 200
    app.config["JWT_ACCEPTED_KEY_IDS"] = []
    assert me(client, old).status_code == 401 and me(client, new).status_code == 200


def test_unknown_kid_is_401(client, app, user):
    assert me(client, forge(app, user, kid="k9")).status_code == 401


def test_invalid_credential_is_401_even_where_anonymous_is_allowed(client):
    for headers in ({"Authorization": "Bearer a.b.c"}, {"X-API-Key": "avk_nonsense"},
                    {"Authorization": "Basic dXNlcjpwdw=="}):
        r = client.post("/api/v1/auth/otp/send", json={"email": "a@example.test"}, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_change_own_name_and_password(client, user):
    token = login(client, "doc@example.test", PASSWORD).get_json()["access_token"]
    r = client.patch("/api/v1/auth/me", headers=bearer(token),
                     json={"name": "Dr. Sarah Chen", "password": "a new long password", "old_password": PASSWORD})
    assert r.status_code == 200 and r.get_json()["name"] == "Dr. Sarah Chen"
    assert login(client, "doc@example.test", "a new long password").status_code == 200
    r = client.patch("/api/v1/auth/me", headers=bearer(token),
                     json={"password": "another long password", "old_password": "wrong"})
    assert r.status_code == 403 and r.get_json() == {"detail": "Old password is incorrect."}


def test_cli_creates_an_admin_who_can_sign_in(runner, client):
    result = runner.invoke(args=["create-user", "--email", "Boss@Example.test", "--role", "admin",
                                 "--name", "Clinic Admin", "--password", "admin password 1"])
    assert result.exit_code == 0 and "created admin usr_" in result.output
    token = login(client, "boss@example.test", "admin password 1").get_json()["access_token"]
    assert me(client, token).get_json()["role"] == "admin"
    again = runner.invoke(args=["create-user", "--email", "boss@example.test", "--role", "admin"])
    assert again.exit_code != 0 and "already exists" in again.output
