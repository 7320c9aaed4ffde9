"""The OpenAPI document states every limit the server enforces (issue 19, "What broke" 8).

Each test reads a rule from `/openapi.json` and asks the server the same question: a value
the document calls valid is accepted, one it calls invalid is refused. The document's
schemas are checked with jsonschema_rs (the validator schemathesis generates against), so
patterns are read as JSON Schema reads them. tests/test_openapi_fuzz.py asks schemathesis
the same thing for every operation; these name each limit that once was missing.
"""
from datetime import timedelta
from pathlib import Path

import jsonschema_rs
import pytest

from avycenna.clock import utcnow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config(app_config):
    app_config.update(AGENT_QUERY_MIN_LENGTH=20, WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"],
                      RATELIMIT_ANONYMOUS="100000/minute", RATELIMIT_JWT="100000/minute",
                      RATELIMIT_API_KEY="100000/minute", AGENT_QUERY_RATE_LIMIT="100000/minute")
    return app_config


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


@pytest.fixture
def member(make_user, key_for):
    user = make_user("member")
    return user, key_for(user)


def valid(spec, schema, value):
    """Whether the document's `schema` (OpenAPI 3.0; `$ref`s into its components) takes `value`."""
    if value is None:
        return bool(schema.get("nullable"))
    root = {**schema, "components": spec["components"]}
    return jsonschema_rs.validator_for(root, validate_formats=True).is_valid(value)


def body_schema(spec, path, method):
    ref = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def property_schema(spec, path, method, name):
    return body_schema(spec, path, method)["properties"][name]


def parameter_schema(spec, path, method, name):
    item = spec["paths"][path]
    for parameter in item[method].get("parameters", []) + item.get("parameters", []):
        if parameter["name"] == name:
            return parameter
    raise KeyError(name)


def accepted(response):
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 422:
        return False
    assert response.status_code < 300, response.get_data(as_text=True)
    return True


def test_cursors_are_opaque_with_no_example_that_is_not_one(client, member, spec):
    cursors = [(path, method, parameter) for path, item in spec["paths"].items()
               for method, operation in item.items() if isinstance(operation, dict)
               for parameter in operation.get("parameters", []) if parameter["name"] == "cursor"]
    assert len(cursors) > 10
    for path, method, parameter in cursors:
        schema = parameter["schema"]
        assert "example" not in parameter and "examples" not in parameter, (method, path)
        assert "example" not in schema and "examples" not in schema, (method, path)
        assert "Opaque" in parameter["description"]
    # What the document does say holds: a cursor the server issued fits it and is accepted.
    _, headers = member
    for n in range(3):
        client.post("/api/v1/api-keys", headers=headers, json={"name": f"key {n}"})
    page = client.get("/api/v1/api-keys?limit=1", headers=headers).get_json()
    cursor = page["next_cursor"]
    assert valid(spec, parameter_schema(spec, "/api/v1/api-keys", "get", "cursor")["schema"], cursor)
    assert client.get(f"/api/v1/api-keys?limit=1&cursor={cursor}", headers=headers).status_code == 200
    forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert client.get(f"/api/v1/api-keys?cursor={forged}", headers=headers).status_code == 422


@pytest.mark.parametrize("url", [
    "0", "integrator.example/hook", "ftp://127.0.0.1/hook", "http://user:pw@127.0.0.1/hook",
    "http://127.0.0.1/hook#part", "http://127.0.0.1:99999/hook", "http://127.0.0.1:0/hook",
    "http://127.0.0.1/with space", "http://127.0.0.1/hook", "http://127.0.0.1:8080/a/b?c=d&e",
    "https://127.0.0.1/", "http://127.0.0.1",
])
def test_webhook_urls_are_uris_and_the_pattern_is_what_the_server_takes(client, member, spec, url):
    _, headers = member
    schema = property_schema(spec, "/api/v1/webhook-endpoints", "post", "url")
    assert schema["format"] == "uri"
    assert valid(spec, schema, url) == accepted(client.post("/api/v1/webhook-endpoints", headers=headers,
                                                            json={"url": url}))


def test_the_agent_query_lengths_are_the_configured_ones(app, client, spec):
    schema = property_schema(spec, "/api/v1/agent/query", "post", "query")
    assert (schema["minLength"], schema["maxLength"]) == (20, app.config["AGENT_QUERY_MAX_LENGTH"])
    for text in ("x" * 19, " " * 30, "\u200b" * 30, "\u3000\u2028\t" * 10, "A question of twenty!", " " * 29 + "?"):
        response = client.post("/api/v1/agent/query", json={"query": text})
        assert valid(spec, schema, text) == accepted(response), repr(text)


def test_the_default_agent_query_minimum_is_500_in_the_document(client, spec, app):
    from avycenna import create_app

    config = {**app.config, "AGENT_QUERY_MIN_LENGTH": 500}
    other = create_app({key: config[key] for key in ("TESTING", "SECRET_KEY", "INSTANCE_PATH", "DATABASE_URL",
                                                     "AGENT_QUERY_MIN_LENGTH")})
    document = other.test_client().get("/openapi.json").get_json()
    assert property_schema(document, "/api/v1/agent/query", "post", "query")["minLength"] == 500


@pytest.mark.parametrize("offset", [None, 0, 1])
@pytest.mark.parametrize("born", ["1899-12-31", "1900-01-01", "1984-03-02", "0999-01-01"])
def test_birth_dates_are_bounded_in_the_document(client, member, spec, born, offset):
    _, headers = member
    if offset is not None:
        born = (utcnow().date() + timedelta(days=offset)).isoformat()
    for path, method, body in (("/api/v1/patients", "post", {"name": "Kim", "relationship": "child"}),):
        schema = property_schema(spec, path, method, "date_of_birth")
        response = client.post(path, headers=headers, json={**body, "date_of_birth": born})
        assert valid(spec, schema, born) == accepted(response), born


@pytest.mark.parametrize("when", [
    "1899-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "1900-01-01T00:00:00-01:00", "2026-06-01T10:00:00+02:00",
    "9998-12-31T12:00:00Z", "9999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
])
def test_timestamp_bounds_are_in_the_document(app, client, member, spec, when):
    from tests.factories import make_patient

    user, headers = member
    patient = make_patient(app, user)
    path = "/api/v1/patients/{patient_id}/wearables"
    schema = parameter_schema(spec, path, "get", "start")["schema"]
    response = client.get(f"/api/v1/patients/{patient.id}/wearables", headers=headers,
                          query_string={"type": "heart_rate", "start": when})
    assert valid(spec, schema, when) == accepted(response), when


def change_schemas():
    from avycenna.schemas import ChangeSchema

    found, todo = [], [ChangeSchema]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.append(cls)
    return found[1:]


def test_every_patch_body_that_needs_a_change_says_so(spec):
    names = {cls.__name__.removesuffix("Schema") for cls in change_schemas()}
    assert {"UpdateMe", "PatchPatient", "UserChange"} <= names
    for name in names:
        schema = spec["components"]["schemas"][name]
        assert schema.get("minProperties") == 1, name
        assert not valid(spec, schema, {}), name


@pytest.mark.parametrize("body", [{}, {"old_password": "the old one"}, {"name": "Kim"}])
def test_a_patch_with_nothing_to_change_is_invalid_in_the_document_too(client, member, spec, body):
    _, headers = member
    schema = body_schema(spec, "/api/v1/auth/me", "patch")
    assert valid(spec, schema, body) == accepted(client.patch("/api/v1/auth/me", headers=headers, json=body))


@pytest.mark.parametrize("body", [
    {"source": "watch", "series": None}, {"source": "watch", "samples": [], "series": None},
    {"source": "watch", "samples": None, "series": []}, {"source": "watch"},
    {"source": "watch", "samples": []}, {"source": "watch", "series": []},
])
def test_ingest_bodies_null_and_missing_forms(app, client, member, spec, body):
    from tests.factories import make_patient

    user, headers = member
    patient = make_patient(app, user)
    path = "/api/v1/patients/{patient_id}/wearables"
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = schema if "$ref" not in schema else spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert "nullable" not in schema["properties"]["series"] and "nullable" not in schema["properties"]["samples"]
    response = client.post(f"/api/v1/patients/{patient.id}/wearables", headers=headers, json=body)
    assert valid(spec, schema, body) == accepted(response), body


def test_every_text_states_the_nul_rule(spec):
    """A string no pattern, format or enum limits would take a NUL, which the server refuses."""
    loose = []

    def walk(schema, where):
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
            loose.append(where)
        for key, value in schema.items():
            if isinstance(value, dict):
                walk(value, f"{where}.{key}")
            elif isinstance(value, list):
                for n, item in enumerate(value):
                    walk(item, f"{where}.{key}[{n}]")
    # Error bodies are the server's words about the request, and may quote it (a `loc` naming a
    # key that holds a NUL): they do not promise the rule.
    walk({name: schema for name, schema in spec["components"]["schemas"].items()
          if name not in ("Error", "ValidationError", "ValidationItem")}, "schemas")
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            walk(parameter.get("schema"), f"{path} {parameter['name']}")
        for method, operation in item.items():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    walk(parameter.get("schema"), f"{method} {path} {parameter['name']}")
    assert not loose
    # Every pattern is one a JSON Schema validator reads (ECMA 262, BMP characters only).
    patterns = []

    def walk_patterns(value):
        if isinstance(value, dict):
            if isinstance(value.get("pattern"), str):
                patterns.append(value["pattern"])
            for item in value.values():
                walk_patterns(item)
        elif isinstance(value, list):
            for item in value:
                walk_patterns(item)
    walk_patterns(spec)
    assert patterns
    for pattern in set(patterns):
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})  # raises on a bad one
        assert all(ord(char) < 0x10000 for char in pattern), "astral characters break ECMA regexes"


def test_fhir_and_mcp_are_linked_from_the_document_and_the_docs(client, spec):
    description = spec["info"]["description"]
    for url in ("/fhir/R4/metadata", "/.well-known/mcp.json"):
        assert f"]({url})" in description
        assert client.get(url).status_code == 200
        assert url in (ROOT / "docs" / "api.md").read_text()
    assert client.get("/fhir/R4/metadata").get_json()["resourceType"] == "CapabilityStatement"
    linked = {tag["name"]: tag["externalDocs"]["url"] for tag in spec["tags"] if "externalDocs" in tag}
    assert linked == {"FHIR R4": "/fhir/R4/metadata", "MCP": "/.well-known/mcp.json"}


# Rules about who asks or what time it is are not rules of the text: a request the document
# calls valid is refused by them with 403/409, never a 422.

def test_asking_yourself_or_for_a_past_expiry_is_409(client, make_user, key_for):
    clinician = make_user("clinician")
    headers = key_for(clinician)
    past = (utcnow() - timedelta(days=1)).isoformat() + "Z"
    r = client.post("/api/v1/grants", headers=headers, json={"email": clinician.email, "scopes": ["profile"]})
    assert r.status_code == 409 and r.get_json() == {"detail": "You cannot ask yourself for access."}
    r = client.post("/api/v1/grants", headers=headers,
                    json={"email": "someone@example.test", "scopes": ["profile"], "expires_at": past})
    assert r.status_code == 409 and r.get_json() == {"detail": "expires_at has already passed."}


def test_an_admin_demoting_themself_is_409(client, make_user, key_for):
    admin = make_user("admin")
    for change in ({"is_active": False}, {"role": "member"}):
        r = client.patch(f"/api/v1/admin/users/{admin.id}", headers=key_for(admin), json=change)
        assert r.status_code == 409 and "your own account" in r.get_json()["detail"]


def test_a_missing_or_wrong_old_password_is_403(client, make_user, key_for):
    user = make_user(password="the right password")
    headers = key_for(user)
    for body in ({"password": "a brand new password"}, {"password": "a brand new password", "old_password": "no"}):
        r = client.patch("/api/v1/auth/me", headers=headers, json=body)
        assert r.status_code == 403 and isinstance(r.get_json()["detail"], str)


@pytest.mark.parametrize("start, end", [
    ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"), ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
    ("2000-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
])
def test_any_window_is_a_question_with_an_answer(app, client, member, start, end):
    from tests.factories import make_patient

    user, headers = member
    patient = make_patient(app, user)
    client.post(f"/api/v1/patients/{patient.id}/wearables", headers=headers, json={
        "source": "watch", "samples": [{"type": "heart_rate", "start": "2025-12-31T23:30:00Z", "value": 70,
                                        "unit": "count/min"}]})
    query = {"type": "heart_rate", "start": start, "end": end}
    samples = client.get(f"/api/v1/patients/{patient.id}/wearables", headers=headers, query_string=query)
    summary = client.get(f"/api/v1/patients/{patient.id}/wearables/summary", headers=headers, query_string=query)
    assert samples.status_code == summary.status_code == 200
    expected = 1 if start < end else 0
    assert len(samples.get_json()["data"]) == len(summary.get_json()["data"]) == expected
