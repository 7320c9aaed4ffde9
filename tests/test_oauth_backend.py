"""SMART Backend Services: an EHR connector an admin registered for a clinician (its own key pair)
gets a token by client credentials with a signed assertion (private_key_jwt, RS384/ES384), reads
FHIR as that clinician — exactly what the clinician's grants allow — and runs a bulk `$export`;
an expired, replayed or mis-addressed assertion, a wrong key, a scope beyond the client's and a
token for another resource are refused as the RFCs say."""
import json
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from avycenna.db import database
from tests.test_fhir_export import clinic, kick_off, local  # noqa: F401 (fixture)

TOKEN_URL = "http://127.0.0.1:8000/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture(params=["RS384", "ES384"])
def keys(request):
    if request.param == "RS384":
        return request.param, RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    return request.param, ECKey.generate_key("P-384", parameters={"kid": "ec-1"})


def register(runner, tmp_path, owner_email, key, scope=None):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    args = ["oauth", "add-backend-client", "--owner", owner_email, "--name", "Clinic EHR", "--jwks", str(path)]
    result = runner.invoke(args=args + (["--scope", scope] if scope else []))
    assert result.exit_code == 0, result.output
    return result.output.strip()


def assertion(client_id, alg, key, **claims):
    now = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 240, "jti": uuid.uuid4().hex,
            **claims}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, body, key, algorithms=[alg])


def token(client, signed, scope="system/*.rs", **extra):
    return client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": scope,
                                             "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed,
                                             **extra})


@pytest.fixture
def connector(runner, tmp_path, clinic, keys):  # noqa: F811
    alg, key = keys
    return {"id": register(runner, tmp_path, clinic["dr"].email, key), "alg": alg, "key": key}


def bearer(response):
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


def test_a_backend_client_reads_fhir_as_its_clinician_and_exports(app, client, clinic, connector):  # noqa: F811
    from avycenna.fhir.export import run_export

    r = token(client, assertion(connector["id"], connector["alg"], connector["key"]))
    h = bearer(r)
    assert r.get_json()["scope"] == "system/*.rs" and "refresh_token" not in r.get_json()
    for holder in clinic["holders"]:
        read = client.get(f"/fhir/R4/Patient/{holder['pid']}", headers=h)
        assert read.status_code == 200 and read.get_json()["id"] == holder["pid"]
    stranger = client.post("/api/v1/patients", headers=clinic["holders"][0]["h"], json={
        "name": "Not Shared", "date_of_birth": "1990-01-01", "relationship": "child"}).get_json()["id"]
    assert client.get(f"/fhir/R4/Patient/{stranger}", headers=h).status_code == 404  # the grants decide
    status_url = kick_off(client, h)
    export_id = status_url.rsplit("/", 1)[1]
    with app.app_context(), database.obj.connection_context():
        run_export.call_local(export_id)
    manifest = client.get(local(status_url), headers=h)
    assert manifest.status_code == 200, manifest.get_data(as_text=True)
    output = manifest.get_json()["output"]
    assert output
    with client.get(local(output[0]["url"]), headers=h) as r:
        assert r.status_code == 200 and r.get_data(as_text=True).strip()
    from avycenna.audit.models import AuditEvent
    with app.app_context(), database.obj.connection_context():
        reads = AuditEvent.select().where((AuditEvent.actor_type == "oauth") & (AuditEvent.actor_key_id == connector["id"]))
        assert reads.count() and {e.actor_user_id for e in reads} == {clinic["dr"].id}


def test_a_backend_token_is_for_fhir_only(client, connector):
    h = bearer(token(client, assertion(connector["id"], connector["alg"], connector["key"])))
    assert client.get("/api/v1/patients", headers=h).status_code == 401
    r = token(client, assertion(connector["id"], connector["alg"], connector["key"]),
              resource="http://127.0.0.1:8000/mcp")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_target"


@pytest.mark.parametrize("claims, why", [
    ({"aud": "http://elsewhere.example/token"}, "aud"),
    ({"exp": int(time.time()) - 600}, "expired"),
    ({"exp": int(time.time()) + 3600}, "too far ahead"),
    ({"iss": "cli_someoneelse12"}, "iss differs from sub"),
    ({"jti": None}, "no jti"),
])
def test_bad_assertions_are_invalid_client(client, connector, claims, why):
    signed = assertion(connector["id"], connector["alg"], connector["key"], **claims)
    if claims.get("jti", "") is None:
        body = {"iss": connector["id"], "sub": connector["id"], "aud": TOKEN_URL, "exp": int(time.time()) + 200}
        signed = jwt.encode({"alg": connector["alg"], "kid": connector["key"].kid}, body, connector["key"],
                            algorithms=[connector["alg"]])
    r = token(client, signed)
    assert r.status_code in (400, 401) and r.get_json()["error"] == "invalid_client", (why, r.get_json())


def test_a_replayed_assertion_is_refused(client, connector):
    signed = assertion(connector["id"], connector["alg"], connector["key"])
    assert token(client, signed).status_code == 200
    again = token(client, signed)
    assert again.get_json()["error"] == "invalid_client" and "before" in again.get_json()["error_description"]


def test_a_key_not_registered_or_a_weaker_algorithm_is_refused(client, connector):
    other = RSAKey.generate_key(2048, parameters={"kid": connector["key"].kid})
    assert token(client, assertion(connector["id"], "RS384", other)).get_json()["error"] == "invalid_client"
    if connector["alg"] == "RS384":
        rs256 = assertion(connector["id"], "RS256", connector["key"])
        assert token(client, rs256).get_json()["error"] == "invalid_client"


def test_scope_beyond_the_clients_and_unknown_clients(client, connector):
    signed = assertion(connector["id"], connector["alg"], connector["key"])
    assert token(client, signed, scope="mcp").get_json()["error"] == "invalid_scope"
    unknown = assertion("cli_unknown12345", connector["alg"], connector["key"])
    assert token(client, unknown).get_json()["error"] == "invalid_client"


def test_disabling_the_client_or_the_clinician_ends_its_tokens(app, client, runner, clinic, connector):  # noqa: F811
    h = bearer(token(client, assertion(connector["id"], connector["alg"], connector["key"])))
    pid = clinic["holders"][0]["pid"]
    assert client.get(f"/fhir/R4/Patient/{pid}", headers=h).status_code == 200
    assert runner.invoke(args=["oauth", "disable-client", connector["id"]]).exit_code == 0
    assert client.get(f"/fhir/R4/Patient/{pid}", headers=h).status_code == 401
    assert token(client, assertion(connector["id"], connector["alg"], connector["key"])).status_code in (400, 401)


def test_registration_needs_a_clinician_and_public_keys(runner, tmp_path, make_user, keys):
    alg, key = keys
    member = make_user("member")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    result = runner.invoke(args=["oauth", "add-backend-client", "--owner", member.email, "--name", "x",
                                 "--jwks", str(path)])
    assert result.exit_code == 1 and "clinician" in result.output
    dr = make_user("clinician")
    path.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    result = runner.invoke(args=["oauth", "add-backend-client", "--owner", dr.email, "--name", "x", "--jwks", str(path)])
    assert result.exit_code == 1 and "public" in result.output


def test_smart_configuration(client):
    config = client.get("/fhir/R4/.well-known/smart-configuration").get_json()
    assert config["token_endpoint"] == TOKEN_URL
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert "client-confidential-asymmetric" in config["capabilities"]
