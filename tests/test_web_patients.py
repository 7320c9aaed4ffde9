"""Dashboard pages for patients: add, edit, consent, ID verification; other accounts see nothing."""
import re

import pytest

from tests.test_web_security import HTML, csrf_token, sign_in


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.test", password="correct horse battery")


def add(client, **fields):
    data = {"name": "Ana Diaz", "date_of_birth": "1990-05-01", "relationship": "self",
            "csrf_token": csrf_token(client, "/account/patients/new"), **fields}
    return client.post("/account/patients", data=data)


def patient_id(response):
    return re.search(r"/account/patients/([0-9a-f-]{36})", response.headers["Location"]).group(1)


def test_add_edit_consent_and_verify(client, member):
    sign_in(client, member.email)
    r = add(client)
    assert r.status_code == 302
    pid = patient_id(r)
    page = client.get(f"/account/patients/{pid}", headers=HTML).get_data(as_text=True)
    assert "Ana Diaz" in page and "version <strong>2026-01</strong>" in page

    token = csrf_token(client, f"/account/patients/{pid}")
    r = client.post(f"/account/patients/{pid}", data={"name": "Ana María Diaz", "date_of_birth": "1990-05-01",
                                                      "relationship": "self", "csrf_token": token})
    assert r.status_code == 302
    r = client.post(f"/account/patients/{pid}/consent", data={"version": "2026-01", "csrf_token": token})
    assert "Tick the box" in client.get(r.headers["Location"], headers=HTML).get_data(as_text=True)
    client.post(f"/account/patients/{pid}/consent", data={"version": "2026-01", "agree": "yes", "csrf_token": token})
    r = client.post(f"/account/patients/{pid}/id-verification",
                    data={"document_type": "passport", "document_number": "P998877", "csrf_token": token})
    assert r.status_code == 302
    page = client.get(f"/account/patients/{pid}", headers=HTML).get_data(as_text=True)
    assert "Ana María Diaz" in page and "Consent given" in page and "Pending with the clinic" in page


def test_errors_sit_next_to_their_fields(client, member):
    sign_in(client, member.email)
    r = add(client, name="", date_of_birth="2999-01-01", relationship="cousin")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for name in ("name", "date_of_birth", "relationship"):
        assert f'id="p-{name}-error"' in html
    assert "Date of birth cannot be in the future." in html
    add(client)
    r = add(client, name="Second Self")
    assert r.status_code == 422 and "already has a patient with relationship" in r.get_data(as_text=True)


def test_another_accounts_patient_is_a_404_page(app, client, member, make_user):
    sign_in(client, member.email)
    pid = patient_id(add(client))
    other = app.test_client()
    sign_in(other, make_user(password="correct horse battery").email)
    r = other.get(f"/account/patients/{pid}", headers=HTML)
    assert r.status_code == 404 and r.mimetype == "text/html" and "Ana Diaz" not in r.get_data(as_text=True)


def test_member_reads_an_encounter_and_replies(app, client, member, token_for):
    from tests.test_web_checkout import QUERY

    sign_in(client, member.email)
    opened = app.test_client().post("/api/v1/agent/query", json={"query": QUERY},
                                    headers=token_for(member)).get_json()
    eid = opened["encounter_id"]
    assert eid in client.get("/account/encounters", headers=HTML).get_data(as_text=True)
    assert "swollen glands" in client.get(f"/account/encounters/{eid}", headers=HTML).get_data(as_text=True)
    r = client.post(f"/account/encounters/{eid}/messages",
                    data={"body": "Hello", "csrf_token": csrf_token(client, f"/account/encounters/{eid}")})
    assert r.status_code == 422 and "cannot post messages" in r.get_data(as_text=True)


def test_emptied_name_on_edit_is_a_required_error_next_to_it(client, member):
    sign_in(client, member.email)
    pid = patient_id(add(client))
    token = csrf_token(client, f"/account/patients/{pid}")
    r = client.post(f"/account/patients/{pid}", data={"name": "  ", "date_of_birth": "1990-05-01",
                                                      "relationship": "self", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="p-name"[^>]*aria-invalid="true"', html, re.S)
    assert '<p class="error" id="p-name-error">This field is required.</p>' in html
    assert "Ana Diaz" in client.get(f"/account/patients/{pid}", headers=HTML).get_data(as_text=True)


def test_checked_out_encounter_is_waiting_on_the_clinic_with_its_reasons(app, client, member, token_for):
    from tests.test_web_checkout import QUERY

    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(member), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.post(f"/api/v1/patients/{pid}/consent", headers=token_for(member), json={"version": "2026-01"})
    link = api.post("/api/v1/agent/query", json={"query": QUERY}).get_json()["checkout_url"]
    state = api.post("/api/v1/checkout", headers=token_for(member),
                     json={"encounter_token": link.rsplit("/", 1)[1], "patient_id": pid}).get_json()
    assert state["status"] == "awaiting_checkout" and "patient_not_id_verified" in state["pending_reasons"]

    sign_in(client, member.email)
    for path in ("/account", "/account/encounters", f"/account/encounters/{state['encounter_id']}"):
        html = client.get(path, headers=HTML).get_data(as_text=True)
        assert "waiting on the clinic" in html and "awaiting checkout" not in html, path
    html = client.get(f"/account/encounters/{state['encounter_id']}", headers=HTML).get_data(as_text=True)
    assert "The clinic is checking the patient&#39;s ID" in html and "Payment is open" in html
