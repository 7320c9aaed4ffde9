"""Bad input gets a clear 400/422 in the JSON error shape on every backend — never a 500.

Bodies are sent as raw text so that what the client sends is exactly what the
server parses (the test client's `json=` would already refuse some of it).
"""
import json

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
])
def test_malformed_json_literals_and_keys_are_400(client, text, detail):
    assert_error(post_raw(client, "/api/v1/auth/login", text), 400, detail)


UNSTORABLE = "Text may not contain NUL characters or unpaired surrogates."


@pytest.mark.parametrize("text, loc", [
    ('{"email": "a@b.co", "password": "x\\u0000y"}', ["body", "password"]),
    ('{"email": "a@b.co", "password": "\\ud800"}', ["body", "password"]),
    ('{"email\\u0000": "a@b.co", "password": "x"}', ["body", "email\x00"]),
])
def test_nul_and_lone_surrogates_are_422_where_they_are(client, text, loc):
    detail = assert_error(post_raw(client, "/api/v1/auth/login", text), 422)
    assert detail == [{"loc": loc, "msg": UNSTORABLE, "type": "value_error.text"}]


@pytest.mark.parametrize("text", ["null", "5", "true", '"text"', "[]"])
def test_a_body_that_is_not_an_object_is_422(client, member, text):
    for path, headers in (("/api/v1/auth/login", {}), ("/api/v1/patients", member[1])):
        detail = assert_error(post_raw(client, path, text, headers), 422)
        assert detail[0]["loc"][0] == "body"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000, 100000])
def test_deeply_nested_json_is_400_not_500(client, member, depth):
    text = '{"name": ' + "[" * depth + "]" * depth + ', "date_of_birth": "1990-01-02", "relationship": "spouse"}'
    detail = assert_error(post_raw(client, "/api/v1/patients", text, member[1]), 400)
    assert "nested" in detail


def test_nesting_within_the_limit_is_read_as_usual(client, member):
    text = '{"name": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + ', "date_of_birth": "1990-01-02"}'
    detail = assert_error(post_raw(client, "/api/v1/patients", text, member[1]), 422)
    assert ["body", "name"] in [item["loc"] for item in detail]


@pytest.mark.parametrize("name", ['"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ Lee"', '"Ann \\ud83d\\ude00"',
                                  '"Ann \\"[{ Lee"'])
def test_brackets_in_text_and_escaped_surrogate_pairs_are_ordinary_text(client, member, name):
    """Only real nesting counts toward the depth limit; an escaped emoji (a surrogate pair) is fine."""
    r = post_raw(client, "/api/v1/patients", PATIENT % name, member[1])
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["name"] == json.loads(name)


@pytest.mark.parametrize("name", ['"Ann\\u0000Lee"', '"Ann \\udc00"', '"\\ud83d"'])
def test_nul_and_lone_surrogates_in_a_stored_field_save_nothing(client, member, name):
    user, headers = member
    detail = assert_error(post_raw(client, "/api/v1/patients", PATIENT % name, headers), 422)
    assert detail[0]["loc"] == ["body", "name"]
    assert client.get("/api/v1/patients", headers=headers).get_json()["data"] == []


def test_a_paired_surrogate_is_an_ordinary_character(client, member):
    r = post_raw(client, "/api/v1/patients", PATIENT % '"Ann \\ud83d\\ude00"', member[1])
    assert r.status_code == 201
    assert r.get_json()["name"] == "Ann \U0001F600"


@pytest.mark.parametrize("path, loc", [
    ("/api/v1/grants/grt_%00x", ["path"]), ("/api/v1/patients?cursor=%00", ["query", "cursor"]),
    ("/api/v1/grants/incoming?status=%00", ["query", "status"]), ("/api/v1/encounters/enc_1%00/messages", ["path"]),
])
def test_nul_in_the_path_or_query_is_422(client, member, path, loc):
    detail = assert_error(client.get(path, headers=member[1]), 422)
    assert detail == [{"loc": loc, "msg": UNSTORABLE, "type": "value_error.text"}]


def test_nul_in_wearable_ingest_is_400(client, member):
    user, headers = member
    patient = client.post("/api/v1/patients", json={"name": "Ann", "date_of_birth": "1990-01-02",
                                                    "relationship": "self"}, headers=headers).get_json()
    text = '{"source": "watch", "samples": [{"type": "sleep", "start": "2026-11-20T08:00:00Z", "value": "d\\u0000"}]}'
    detail = assert_error(post_raw(client, f"/api/v1/patients/{patient['id']}/wearables", text, headers), 422)
    assert detail[0]["loc"] == ["body", "samples", 0, "value"]
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


# Wrong types are refused, not coerced ---------------------------------------------------------

def make_patient_via_api(client, headers, relationship="self"):
    r = client.post("/api/v1/patients", headers=headers,
                    json={"name": "Ann Lee", "date_of_birth": "1990-01-02", "relationship": relationship})
    assert r.status_code == 201
    return r.get_json()


@pytest.mark.parametrize("unit_part", [', "unit": null', ', "unit": 5'])
def test_null_or_number_unit_in_the_compact_ingest_form_is_422(client, member, unit_part):
    patient = make_patient_via_api(client, member[1])
    text = ('{"source": "watch", "series": [{"type": "sleep"%s, "start": ["2026-11-20T08:00:00Z"], '
            '"end": ["2026-11-20T09:00:00Z"], "value": ["deep"]}]}' % unit_part)
    detail = assert_error(post_raw(client, f"/api/v1/patients/{patient['id']}/wearables", text, member[1]), 422)
    assert detail[0]["loc"] == ["body", "series", 0, "unit"]


def test_null_end_in_a_basic_sample_is_422(client, member):
    patient = make_patient_via_api(client, member[1])
    body = {"source": "watch", "samples": [{"type": "sleep", "start": "2026-11-20T08:00:00Z", "end": None,
                                            "value": "deep", "unit": None}]}
    r = client.post(f"/api/v1/patients/{patient['id']}/wearables", headers=member[1], json=body)
    detail = assert_error(r, 422)
    assert detail[0]["loc"][:3] == ["body", "samples", 0] and detail[0]["type"] == "none_forbidden"


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_numbers_and_words_are_not_booleans(client, make_user, key_for, value):
    admin = key_for(make_user("admin"))
    target = make_user("member")
    r = client.patch(f"/api/v1/admin/users/{target.id}", headers=admin, json={"is_active": value})
    detail = assert_error(r, 422)
    assert detail[0]["loc"] == ["body", "is_active"]
    assert client.get("/api/v1/auth/me", headers=key_for(target)).status_code == 200  # still active


@pytest.mark.parametrize("path, body", [
    ("/api/v1/auth/me", None), ("/api/v1/auth/me", {}), ("/api/v1/auth/me", {"old_password": "x"}),
    ("/api/v1/patients/{pid}", {}), ("/api/v1/patients/{pid}", None),
])
def test_an_empty_patch_is_422_and_changes_nothing(client, member, path, body):
    patient = make_patient_via_api(client, member[1])
    before = client.get(f"/api/v1/patients/{patient['id']}", headers=member[1]).get_json()
    url = path.format(pid=patient["id"])
    r = client.patch(url, headers=member[1], json=body) if body is not None else client.patch(url, headers=member[1])
    detail = assert_error(r, 422)
    assert detail[0]["msg"] == "Send at least one field to change."
    assert client.get(f"/api/v1/patients/{patient['id']}", headers=member[1]).get_json() == before


def test_an_empty_admin_user_patch_is_422(client, make_user, key_for):
    target = make_user("member")
    r = client.patch(f"/api/v1/admin/users/{target.id}", headers=key_for(make_user("admin")), json={})
    assert_error(r, 422)


def test_a_204_has_no_content_type(client, member):
    patient = make_patient_via_api(client, member[1], relationship="child")
    r = client.delete(f"/api/v1/patients/{patient['id']}", headers=member[1])
    assert r.status_code == 204 and r.get_data() == b""
    assert "Content-Type" not in r.headers


@pytest.mark.parametrize("path", ["/api/v1/patients", "/api/v1/grants/incoming", "/health", "/checkout/x" * 1])
def test_options_answers_json_with_the_allowed_methods(client, path):
    r = client.options(path)
    assert r.status_code in (200, 405)
    assert r.mimetype == "application/json"
    if r.status_code == 200:
        assert set(r.get_json()["allow"]) == {m.strip() for m in r.headers["Allow"].split(",")}


# Out-of-range values ----------------------------------------------------------------------------

@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                  "1899-12-31T23:59:59Z", "9999-06-01T00:00:00Z"])
def test_out_of_range_timestamps_are_422(client, make_user, key_for, when):
    dr = key_for(make_user("clinician"))
    r = client.post("/api/v1/grants", headers=dr,
                    json={"email": "holder@example.test", "scopes": ["profile"], "expires_at": when})
    detail = assert_error(r, 422)
    assert detail[0]["loc"] == ["body", "expires_at"]
    assert client.get("/api/v1/grants/outgoing", headers=dr).get_json()["data"] == []


@pytest.mark.parametrize("query", ["end=0001-01-05T00:00:00Z", "end=0001-01-01T00:00:00%2B14:00",
                                   "start=9999-12-31T23:59:59-14:00"])
def test_wearable_reads_with_out_of_range_windows_are_422(client, member, query):
    patient = make_patient_via_api(client, member[1])
    for path in ("wearables", "wearables/summary"):
        r = client.get(f"/api/v1/patients/{patient['id']}/{path}?type=heart_rate&{query}", headers=member[1])
        assert_error(r, 422)


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_out_of_range_sample_times_are_422(client, member, start):
    patient = make_patient_via_api(client, member[1])
    body = {"source": "watch", "samples": [{"type": "heart_rate", "start": start, "value": 70, "unit": "count/min"}]}
    assert_error(client.post(f"/api/v1/patients/{patient['id']}/wearables", headers=member[1], json=body), 422)


def test_a_grant_email_over_254_characters_is_422(client, make_user, key_for):
    dr = key_for(make_user("clinician"))
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".test"
    assert len(email) > 254
    r = client.post("/api/v1/grants", headers=dr, json={"email": email, "scopes": ["profile"]})
    detail = assert_error(r, 422)
    assert detail[0]["loc"] == ["body", "email"]


@pytest.mark.parametrize("blank", [" " * 600, "\x00" * 600, "\u200b" * 600, "\t\n\r" * 200,
                                   " \u200b\u200c\u200d\ufeff\u00a0\u2028" * 100])
def test_an_agent_query_made_of_nothing_visible_is_blank(client, blank):
    detail = assert_error(client.post("/api/v1/agent/query", json={"query": blank}), 422)
    msg = UNSTORABLE if "\x00" in blank else "Cannot be blank."
    assert detail == [{"loc": ["body", "query"], "msg": msg, "type": "value_error.text" if "\x00" in blank
                       else "value_error"}]


@pytest.mark.parametrize("blank", ["   ", "\u200b\u200b", "\u00a0", "\u2060"])
def test_a_name_made_of_nothing_visible_is_blank(client, member, blank):
    r = client.post("/api/v1/patients", headers=member[1],
                    json={"name": blank, "date_of_birth": "1990-01-02", "relationship": "self"})
    assert assert_error(r, 422)[0]["loc"] == ["body", "name"]
    r = client.patch("/api/v1/auth/me", headers=member[1], json={"name": blank})
    assert assert_error(r, 422)[0]["msg"] == "Cannot be blank."
