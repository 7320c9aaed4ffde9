"""Bad input gets a clear 400/422 in the JSON error shape on every backend — never a 500.

Bodies are sent as raw text so that what the client sends is exactly what the
server parses (the test client's `json=` would already refuse some of it).
"""
import pytest

from avycenna.jsonbody import MAX_DEPTH


@pytest.fixture
def member(make_user, key_for):
    user = make_user("member")
    return user, key_for(user)


def post_raw(client, path, text, headers=None):
    return client.post(path, data=text.encode("utf-8", "surrogatepass"),
                       content_type="application/json", headers=headers or {})


def assert_error(response, status, detail=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"detail"}
    if detail is not None:
        assert body["detail"] == detail
    return body["detail"]


PATIENT = '{"name": %s, "date_of_birth": "1990-01-02", "relationship": "spouse"}'


@pytest.mark.parametrize("text, detail", [
    ('{"email": "a@b.co", "password": NaN}', "Malformed JSON body: NaN is not a JSON number."),
    ('{"email": "a@b.co", "password": Infinity}', "Malformed JSON body: Infinity is not a JSON number."),
    ('{"email": "a@b.co", "password": -Infinity}', "Malformed JSON body: -Infinity is not a JSON number."),
    ('{"email": "a@b.co", "email": "c@d.co", "password": "x"}',
     "Malformed JSON body: the key 'email' appears twice in one object."),
    ('{"email": "a@b.co", "password": "x\\u0000y"}',
     "Text may not contain NUL characters or unpaired surrogates."),
    ('{"email": "a@b.co", "password": "\\ud800"}',
     "Text may not contain NUL characters or unpaired surrogates."),
    ('{"email\\u0000": "a@b.co", "password": "x"}',
     "Text may not contain NUL characters or unpaired surrogates."),
])
def test_malformed_json_literals_keys_and_text_are_400(client, text, detail):
    assert_error(post_raw(client, "/api/v1/auth/login", text), 400, detail)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000, 100000])
def test_deeply_nested_json_is_400_not_500(client, member, depth):
    text = '{"name": ' + "[" * depth + "]" * depth + ', "date_of_birth": "1990-01-02", "relationship": "spouse"}'
    detail = assert_error(post_raw(client, "/api/v1/patients", text, member[1]), 400)
    assert "nested" in detail


def test_nesting_within_the_limit_is_read_as_usual(client, member):
    text = '{"name": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + ', "date_of_birth": "1990-01-02"}'
    detail = assert_error(post_raw(client, "/api/v1/patients", text, member[1]), 422)
    assert ["body", "name"] in [item["loc"] for item in detail]


@pytest.mark.parametrize("name", ['"Ann\\u0000Lee"', '"Ann \\udc00"', '"\\ud83d"'])
def test_nul_and_lone_surrogates_in_a_stored_field_save_nothing(client, member, name):
    user, headers = member
    assert_error(post_raw(client, "/api/v1/patients", PATIENT % name, headers), 400)
    assert client.get("/api/v1/patients", headers=headers).get_json()["data"] == []


def test_a_paired_surrogate_is_an_ordinary_character(client, member):
    r = post_raw(client, "/api/v1/patients", PATIENT % '"Ann \\ud83d\\ude00"', member[1])
    assert r.status_code == 201
    assert r.get_json()["name"] == "Ann \U0001F600"


@pytest.mark.parametrize("path", [
    "/api/v1/grants/grt_%00x", "/api/v1/patients?cursor=%00", "/api/v1/grants/incoming?status=%00",
    "/api/v1/encounters/enc_1%00/messages",
])
def test_nul_in_the_path_or_query_is_400(client, member, path):
    assert_error(client.get(path, headers=member[1]), 400,
                 "Text may not contain NUL characters or unpaired surrogates.")


def test_nul_in_wearable_ingest_is_400(client, member):
    user, headers = member
    patient = client.post("/api/v1/patients", json={"name": "Ann", "date_of_birth": "1990-01-02",
                                                    "relationship": "self"}, headers=headers).get_json()
    text = '{"source": "watch\\u0000", "samples": []}'
    assert_error(post_raw(client, f"/api/v1/patients/{patient['id']}/wearables", text, headers), 400)
    text = '{"source": "watch", "samples": [], "samples": []}'
    assert_error(post_raw(client, f"/api/v1/patients/{patient['id']}/wearables", text, headers), 400)


def test_repeated_query_parameter_is_422(client, member):
    detail = assert_error(client.get("/api/v1/patients?limit=5&limit=500", headers=member[1]), 422)
    assert detail == [{"loc": ["query", "limit"], "msg": "Give this parameter once.",
                       "type": "value_error.repeated"}]


def test_two_credentials_in_one_request_are_refused(client, make_user, key_for, token_for):
    user = make_user("member")
    key, jwt = key_for(user), token_for(user)
    assert client.get("/api/v1/auth/me", headers=key).status_code == 200
    assert client.get("/api/v1/auth/me", headers=jwt).status_code == 200
    for extra in (jwt, {"Authorization": "Bearer " + key["X-API-Key"]}, {"Authorization": "Bearer nonsense"}):
        r = client.get("/api/v1/auth/me", headers={**key, **extra})
        assert_error(r, 401, "Send one credential: X-API-Key or Authorization, not both.")
    r = client.post("/api/v1/patients", headers={**key, **jwt},
                    json={"name": "Ann", "date_of_birth": "1990-01-02", "relationship": "self"})
    assert r.status_code == 401
    assert client.get("/api/v1/patients", headers=key).get_json()["data"] == []
