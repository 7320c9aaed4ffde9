"""SMART App Launch, standalone: a patient-facing app is sent to the consent page (`aud` = the FHIR
endpoint, `launch/patient patient/*.rs`), the person signs in, picks one of their patients and
allows; the token reads that patient only, over FHIR."""
from urllib.parse import urlencode

import pytest
import requests

from tests.oauth_helpers import (BASE, PASSWORD, REDIRECT, csrf, flask_sign_in, pkce, redirect_query, register)
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


def smart_authorize(client_id, challenge, aud=FHIR, scope=SMART_SCOPE):
    return "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s1", "aud": aud,
        "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"})


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
    assert tokens["patient"] == kim and tokens["scope"] == "launch/patient patient/*.rs offline_access"
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
    authorize = config["authorization_endpoint"] + smart_authorize(client_id, challenge, aud=base + "/fhir/R4")[
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
