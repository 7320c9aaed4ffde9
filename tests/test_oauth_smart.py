"""SMART App Launch, standalone: a patient-facing app is sent to the consent page (`aud` = the FHIR
endpoint, `launch/patient patient/*.rs`), the person signs in, picks one of their patients and
allows; the token reads that patient only, over FHIR."""
import os
import stat
from urllib.parse import urlencode

import jwt
import pytest
import requests
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet

from tests.oauth_helpers import (
    BASE, PASSWORD, REDIRECT, authorize_path, csrf, exchange, flask_consent, flask_sign_in, pkce, redirect_query,
    register
)
from tests.web_fixtures import screenshot, sign_in_with_password

FHIR = BASE + "/fhir/R4"
SMART_SCOPE = "launch/patient openid fhirUser patient/*.rs offline_access"


@pytest.fixture
def app_config(app_config):
    app_config["SESSION_COOKIE_SECURE"] = False
    return app_config


@pytest.fixture
def family(client, make_user, token_for):
    person = make_user("member", password=PASSWORD)
    h = token_for(person)
    ids = []
    for name, relationship in (("Ada Example", "self"), ("Kim Example", "child")):
        r = client.post("/api/v1/patients", headers=h, json={"name": name, "date_of_birth": "2001-02-03",
                                                              "relationship": relationship})
        ids.append(r.get_json()["id"])
    return person, ids


def smart_authorize(client_id, challenge, aud=FHIR, scope=SMART_SCOPE, **extra):
    return "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s1", "aud": aud,
        "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256", **extra})


def smart_token(client, client_id, code, verifier):
    r = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                          "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_standalone_launch_reads_the_chosen_patient_only(client, app, family):
    person, (ada, kim) = family
    client_id = register(client)["client_id"]
    web = app.test_client()
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    path = smart_authorize(client_id, challenge)
    page = web.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ada Example" in text and "Kim Example" in text and 'type="radio"' in text
    missing = web.post(path, data={"csrf_token": csrf(text), "decision": "allow"})
    assert missing.status_code == 422 and "Choose the patient" in missing.get_data(as_text=True)
    r = web.post(path, data={"csrf_token": csrf(text), "decision": "allow", "patient_id": kim})
    tokens = smart_token(client, client_id, redirect_query(r.headers["Location"])["code"], verifier)
    assert tokens["patient"] == kim and tokens["scope"] == "launch/patient openid fhirUser patient/*.rs offline_access"
    h = {"Authorization": "Bearer " + tokens["access_token"]}
    assert client.get(f"/fhir/R4/Patient/{kim}", headers=h).get_json()["id"] == kim
    assert client.get(f"/fhir/R4/Patient/{kim}/$everything", headers=h).status_code == 200
    assert client.get(f"/fhir/R4/Observation?patient=Patient/{kim}", headers=h).status_code == 200
    for other in (f"/fhir/R4/Patient/{ada}", f"/fhir/R4/Observation?patient={ada}",
                  f"/fhir/R4/Observation?patient={kim}&subject=Patient/{ada}", "/fhir/R4/Observation",
                  "/fhir/R4/Patient/$export", "/api/v1/patients"):
        assert client.get(other, headers={**h, "Prefer": "respond-async"}).status_code == 401, other
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                                  "refresh_token": tokens["refresh_token"]}).get_json()
    assert refreshed["patient"] == kim


def test_smart_scopes_are_checked_against_the_resource(client, app, family):
    person, _ = family
    client_id = register(client)["client_id"]
    web = app.test_client()
    flask_sign_in(web, person.email)
    for aud, scope in ((FHIR, "mcp"), (FHIR, "launch/patient"), (BASE + "/mcp", "patient/*.rs"),
                       (FHIR, "system/*.rs")):
        r = web.get(smart_authorize(client_id, pkce()[1], aud=aud, scope=scope))
        assert r.status_code == 302 and "error=invalid_scope" in r.headers["Location"], (aud, scope)
    r = web.get(smart_authorize(client_id, pkce()[1], aud="https://elsewhere.example/fhir"))
    assert "error=invalid_target" in r.headers["Location"]


def test_smart_standalone_launch_in_a_browser(live_server, page, family):
    """app → authorize → sign in → consent → code → token → Patient/{id} read, in Chromium."""
    person, (ada, kim) = family
    base = live_server.url
    client_id = requests.post(base + "/oauth/register", timeout=30, json={
        "client_name": "Family Health App", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}).json()["client_id"]
    config = requests.get(base + "/fhir/R4/.well-known/smart-configuration", timeout=30).json()
    verifier, challenge = pkce()
    authorize = config["authorization_endpoint"] + smart_authorize(client_id, challenge, aud=base + "/fhir/R4",
                                                                   nonce="n-browser")[
        len("/oauth/authorize"):]
    page.route("http://127.0.0.1:1/**", lambda route: route.fulfill(status=200, body="app callback"))
    page.goto(authorize)
    assert "/signin" in page.url
    sign_in_with_password(page, person.email, PASSWORD)  # from the sign-in page, back to the consent page
    page.goto(authorize)
    page.wait_for_selector("text=Connect “Family Health App”")
    page.check(f"input[name=patient_id][value='{ada}']")
    screenshot(page, "oauth-consent-smart")
    page.click("button[value=allow]")
    page.wait_for_url("http://127.0.0.1:1/callback**")
    answer = redirect_query(page.url)
    assert answer["state"] == "s1"
    r = requests.post(config["token_endpoint"], timeout=30, data={
        "grant_type": "authorization_code", "code": answer["code"], "client_id": client_id,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["patient"] == ada
    read = requests.get(f"{base}/fhir/R4/Patient/{tokens['patient']}", timeout=30,
                        headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert read.status_code == 200 and read.json()["id"] == ada
    # openid fhirUser: the id_token, checked by PyJWT against the key set the metadata names
    discovery = requests.get(base + "/.well-known/openid-configuration", timeout=30).json()
    assert discovery["jwks_uri"] == config["jwks_uri"] == base + "/.well-known/jwks.json"
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(tokens["id_token"], key, algorithms=discovery["id_token_signing_alg_values_supported"],
                        audience=client_id, issuer=discovery["issuer"])
    assert claims["sub"] == person.id and claims["nonce"] == "n-browser"
    assert claims["fhirUser"] == f"{base}/fhir/R4/Patient/{ada}"


def _id_token_claims(client, tokens, client_id):
    """The id_token's claims, verified with joserfc against the server's JWK Set."""
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    token = joserfc_jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    issuer = client.get("/.well-known/openid-configuration").get_json()["issuer"]
    joserfc_jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                                  aud={"essential": True, "value": client_id}).validate(token.claims)
    return token.claims


def _launch(client, app, person, patient, **extra):
    """A standalone launch approved for `patient`: (client_id, token response)."""
    client_id = register(client)["client_id"]
    web = app.test_client()
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    path = smart_authorize(client_id, challenge, **extra)
    page = web.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    r = web.post(path, data={"csrf_token": csrf(page.get_data(as_text=True)), "decision": "allow",
                             "patient_id": patient})
    return client_id, smart_token(client, client_id, redirect_query(r.headers["Location"])["code"], verifier)


def test_openid_fhiruser_gives_a_signed_id_token_naming_the_person(client, app, family):
    person, (ada, kim) = family
    client_id, tokens = _launch(client, app, person, kim, nonce="n-123")
    claims = _id_token_claims(client, tokens, client_id)
    assert claims["sub"] == person.id and claims["nonce"] == "n-123"
    assert claims["fhirUser"] == f"{BASE}/fhir/R4/Patient/{ada}"  # the person's own record, not the launch's
    assert claims["iat"] <= claims["exp"] and claims["auth_time"] <= claims["iat"]
    assert "name" not in claims and "email" not in claims
    assert tokens["patient"] == kim


def test_openid_without_fhiruser_or_an_own_record_names_no_record(client, app, make_user, token_for, family):
    person, (_, kim) = family
    client_id, tokens = _launch(client, app, person, kim, scope="launch/patient openid patient/*.rs")
    assert "fhirUser" not in _id_token_claims(client, tokens, client_id)
    parent = make_user("member", password=PASSWORD)
    child = client.post("/api/v1/patients", headers=token_for(parent), json={
        "name": "Lee Example", "date_of_birth": "2015-02-03", "relationship": "child"}).get_json()["id"]
    client_id, tokens = _launch(client, app, parent, child)
    claims = _id_token_claims(client, tokens, client_id)
    assert claims["sub"] == parent.id and "fhirUser" not in claims


def test_no_openid_no_id_token_and_a_nonce_is_used_once(client, app, family):
    person, (_, kim) = family
    _, tokens = _launch(client, app, person, kim, scope="launch/patient patient/*.rs")
    assert "id_token" not in tokens
    client_id, _ = _launch(client, app, person, kim, nonce="once")
    web = app.test_client()
    flask_sign_in(web, person.email)
    for nonce in ("once", "x" * 256):  # replayed for this client; too long
        r = web.get(smart_authorize(client_id, pkce()[1], nonce=nonce))
        assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"], nonce


def test_openid_is_for_fhir_apps_an_assistant_asking_for_it_gets_mcp_only(client, app, family):
    person, _ = family
    client_id = register(client)["client_id"]
    web = app.test_client()
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    answer = flask_consent(web, authorize_path(client_id, challenge, scope="mcp openid fhirUser"))
    tokens = exchange(client, client_id, answer["code"], verifier).get_json()
    assert tokens["scope"] == "mcp" and "id_token" not in tokens


def test_the_metadata_names_the_key_and_the_key_is_kept_private(client, app):
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert client.get("/.well-known/openid-configuration").get_json() == server
    assert server["jwks_uri"].endswith("/.well-known/jwks.json") and server["id_token_signing_alg_values_supported"]
    assert {"openid", "fhirUser"} <= set(server["scopes_supported"])
    smart = client.get("/fhir/R4/.well-known/smart-configuration").get_json()
    assert "sso-openid-connect" in smart["capabilities"] and smart["jwks_uri"] == server["jwks_uri"]
    (key,) = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key and "p" not in key
    path = os.path.join(app.instance_path, "oidc_signing_key.pem")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
