"""Every operation in the OpenAPI spec answers bad input with the JSON error shape.

Walks /openapi.json, so endpoints added later are covered without touching this file:
no credentials, a wrong credential, malformed JSON, wrongly typed bodies, oversized
bodies and unknown ids must each get a 4xx `{"detail": …}` — never a 500, never HTML.
"""
import uuid

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def app_config(app_config):
    app_config.update(RATELIMIT_ANONYMOUS="100000/minute", RATELIMIT_JWT="100000/minute",
                      RATELIMIT_API_KEY="100000/minute")
    return app_config


def operations(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def fill(path, value):
    import re
    return re.sub(r"\{[^}]+\}", value, path)


def assert_error_shape(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:300]!r}"
    if response.status_code >= 400:
        assert response.mimetype == "application/json", what
        body = response.get_json()
        assert set(body) == {"detail"}, what
        if response.status_code == 422:
            assert all({"loc", "msg", "type"} <= set(item) for item in body["detail"]), what
        else:
            assert isinstance(body["detail"], str) and body["detail"], what


def test_anonymous_and_bad_credentials_never_crash(client):
    for method, path, op in operations(client):
        url = fill(path, str(uuid.uuid4()))
        for headers in ({}, {"Authorization": "Bearer not.a.jwt"}, {"X-API-Key": "avk_wrong"},
                        {"Authorization": "Bearer " + "0" * 64}, {"Authorization": "Basic dXNlcjpwdw=="}):
            r = client.open(url, method=method.upper(), headers=headers)
            assert_error_shape(r, f"{method.upper()} {path} {headers}")
            if headers and not path.startswith("/health"):  # /health and /health/ready ignore credentials
                assert r.status_code == 401, f"{method.upper()} {path} accepted a bad credential"


@pytest.mark.parametrize("role", ["member", "clinician", "admin"])
def test_bad_bodies_and_unknown_ids_never_crash(client, make_user, token_for, role):
    headers = token_for(make_user(role))
    bodies = [("malformed", "{not json", "application/json"),
              ("list", "[1, 2]", "application/json"),
              ("number", "42", "application/json"),
              ("wrong types", '{"email": 5, "name": [], "query": {}, "patient_id": 7, "scopes": "x",'
                              ' "samples": "x", "plan": 3, "version": null, "password": 1}', "application/json"),
              ("form", "a=b", "application/x-www-form-urlencoded")]
    for method, path, op in operations(client):
        for ident in ("nope", str(uuid.uuid4()), "usr_" + "x" * 300):
            url = fill(path, ident)
            if method in ("get", "delete"):
                assert_error_shape(client.open(url, method=method.upper(), headers=headers),
                                   f"{method.upper()} {url}")
                continue
            for name, data, ctype in bodies:
                r = client.open(url, method=method.upper(), headers=headers, data=data, content_type=ctype)
                assert_error_shape(r, f"{method.upper()} {path} {name}")
                if name == "form" and r.status_code != 404:
                    assert r.status_code in (401, 403, 405, 415), f"{method.upper()} {path} took a form"


def test_oversized_bodies_are_413(client, make_user, token_for, app):
    headers = token_for(make_user("admin"))
    big = '{"x": "' + "a" * (app.config["MAX_CONTENT_LENGTH"] * 12) + '"}'
    for method, path, op in operations(client):
        if method in ("post", "put", "patch"):
            r = client.open(fill(path, str(uuid.uuid4())), method=method.upper(), headers=headers,
                            data=big, content_type="application/json")
            assert r.status_code in (403, 404, 413), f"{method.upper()} {path}: {r.status_code}"
            assert_error_shape(r, f"{method.upper()} {path} oversized")
