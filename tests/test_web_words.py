"""Pages show words, not codes: relationships, sexes, document types, countries, encounters
titled by their question, and the clinician's name on the answer."""
from tests.agent_helpers import ask, ready_patient, subscribe
from tests.test_web_security import HTML, sign_in

PASSWORD = "correct horse battery"


def test_words_for_codes():
    from avycenna.web import words

    assert words.relationship_label("spouse") == "Spouse or partner"
    assert words.document_label("drivers_license") == "Driver's licence"
    assert words.country_name("DE") == "Germany" and words.country_name("ZZ") == "ZZ"
    assert words.sex_label(None) == "Not given"
    assert words.excerpt("word " * 40, 20) == "word word word word…"


def test_account_pages_name_things_in_words(app, client, make_user, key_for):
    member = make_user(email="pat@example.test", password=PASSWORD)
    admin, doc = make_user(role="admin"), make_user(role="clinician", name="Dr. Sarah Chen")
    api = app.test_client()
    subscribe(api, key_for(member), key_for(admin))
    pid = ready_patient(api, key_for(member), key_for(admin), relationship="spouse")
    eid = ask(api, key_for(member), patient_id=pid).get_json()["encounter_id"]
    api.post(f"/api/v1/encounters/{eid}/take", headers=key_for(doc))
    api.post(f"/api/v1/encounters/{eid}/answer", headers=key_for(doc), json={"body": "Rest and fluids."})
    sign_in(client, member.email)

    account = client.get("/account", headers=HTML).get_data(as_text=True)
    assert "Spouse or partner" in account and ">spouse<" not in account
    assert "“I have had a dry cough for three weeks" in account and f">{eid}<" not in account
    page = client.get(f"/account/encounters/{eid}", headers=HTML).get_data(as_text=True)
    assert "Dr. Sarah Chen · answer" in page and "clinician · answer" not in page
    assert f"Encounter <span class=\"mono\">{eid}" not in page and "Your question of" in page
    form = client.get("/account/patients/new", headers=HTML).get_data(as_text=True)
    assert ">Spouse or partner</option>" in form and ">spouse</option>" not in form


def test_admin_reads_document_type_and_country_in_words(app, client, make_user, key_for):
    member, admin = make_user(), make_user(role="admin", email="boss@example.test", password=PASSWORD)
    api = app.test_client()
    pid = ready_patient(api, key_for(member), key_for(admin), verify=False)
    r = api.post(f"/api/v1/patients/{pid}/id-verification", headers=key_for(member), json={
        "document_type": "drivers_license", "document_number": "D1234567", "issuing_country": "GB"})
    assert r.status_code == 201, r.get_json()
    sign_in(client, admin.email)
    html = client.get("/admin/id-verifications", headers=HTML).get_data(as_text=True)
    assert "Driver&#39;s licence" in html and "United Kingdom" in html and "drivers license" not in html
