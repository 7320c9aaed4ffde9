"""Every error source answers with the seed's JSON shape — never HTML, never a traceback."""
import pytest
from flask import Blueprint
from peewee import IntegrityError

from avycenna.errors import fail


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ANONYMOUS"] = "3/minute"
    return app_config


@pytest.fixture
def app(app):
    """The app plus a few routes that raise what real endpoints can raise."""
    probe = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @probe.route("/boom")
    def boom():
        raise RuntimeError("secret patient detail that must not leak")

    @probe.route("/forbidden")
    def forbidden():
        fail(403, "Your role does not allow this.")

    @probe.route("/conflict")
    def conflict():
        raise IntegrityError("UNIQUE constraint failed: user.email")

    app.register_blueprint(probe)
    return app


def assert_detail(response, status, detail):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"detail": detail}


def test_validation_error_lists_loc_msg_type(client):
    r = client.post("/api/v1/auth/login", json={"email": "not-an-email", "password": "x"})
    assert r.status_code == 422
    assert r.get_json() == {"detail": [{"loc": ["body", "email"], "msg": "Not a valid email address.",
                                        "type": "value_error.email"}]}


def test_missing_and_unknown_fields_each_get_an_item(client):
    r = client.post("/api/v1/auth/login", json={"emial": "a@b.co"})
    items = sorted(r.get_json()["detail"], key=lambda i: i["loc"])
    assert r.status_code == 422
    assert items == [
        {"loc": ["body", "email"], "msg": "Missing data for required field.", "type": "missing"},
        {"loc": ["body", "emial"], "msg": "Unknown field.", "type": "extra_forbidden"},
        {"loc": ["body", "password"], "msg": "Missing data for required field.", "type": "missing"},
    ]


def test_wrong_json_type_is_422_not_500(client):
    r = client.post("/api/v1/auth/login", json=["a", "list"])
    assert r.status_code == 422
    assert r.get_json()["detail"][0]["loc"] == ["body"]


def test_malformed_json_is_400(client):
    r = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert_detail(r, 400, "Malformed JSON body.")


def test_non_json_body_is_415(client):
    r = client.post("/api/v1/auth/login", data="email=a@b.co", content_type="application/x-www-form-urlencoded")
    assert_detail(r, 415, "Request body must be JSON (Content-Type: application/json).")


def test_oversized_body_is_413(client, app):
    big = '{"email": "a@b.co", "password": "' + "x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + '"}'
    r = client.post("/api/v1/auth/login", data=big, content_type="application/json")
    assert_detail(r, 413, "Request body too large.")


def test_unauthenticated_is_401_with_challenge(client):
    r = client.get("/api/v1/auth/me")
    assert_detail(r, 401, "Authentication required.")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_forbidden_is_403(client):
    assert_detail(client.get("/api/v1/probe/forbidden"), 403, "Your role does not allow this.")


def test_unknown_route_is_404(client):
    assert_detail(client.get("/api/v1/no-such-thing"), 404, "Not found.")


def test_wrong_method_is_405_with_allow(client):
    r = client.delete("/api/v1/auth/login")
    assert_detail(r, 405, "Method not allowed.")
    assert "POST" in r.headers["Allow"]


def test_integrity_error_is_409(client):
    assert_detail(client.get("/api/v1/probe/conflict"), 409, "Conflicts with an existing record.")


def test_unexpected_exception_is_500_without_traceback(client, caplog):
    r = client.get("/api/v1/probe/boom")
    assert_detail(r, 500, "Internal server error.")
    assert b"Traceback" not in r.data and b"secret patient" not in r.data


def test_rate_limit_is_429_with_retry_after(client):
    for _ in range(3):
        assert client.get("/api/v1/auth/me").status_code == 401
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 429
    assert r.get_json()["detail"].startswith("Rate limit exceeded")
    assert int(r.headers["Retry-After"]) >= 1


def test_non_api_404_is_json_too(client):
    assert_detail(client.get("/nothing-here"), 404, "Not found.")
