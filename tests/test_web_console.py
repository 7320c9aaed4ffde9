"""The clinician console's wording: a closed encounter's summary, the patient's relationship,
the chart ranges and the blood-pressure legend."""
from datetime import datetime, timezone

from tests.agent_helpers import ask, ready_patient, subscribe
from tests.test_web_grants import week_of_samples
from tests.test_web_security import HTML, sign_in

PASSWORD = "correct horse battery"


def test_closed_encounter_shows_its_summary_and_plain_relationship(app, client, make_user, token_for, key_for):
    member, doc = make_user(), make_user(role="clinician", password=PASSWORD)
    api = app.test_client()
    admin = make_user(role="admin")
    subscribe(api, token_for(member), token_for(admin), plan="yearly")
    pid = ready_patient(api, token_for(member), token_for(admin))
    eid = ask(api, key_for(member), patient_id=pid).get_json()["encounter_id"]
    url = f"/api/v1/encounters/{eid}"
    assert api.post(url + "/take", headers=token_for(doc)).status_code == 200
    assert api.post(url + "/answer", json={"body": "Rest and fluids."}, headers=token_for(doc)).status_code == 200
    assert api.post(url + "/close", json={"summary": "Viral sore throat; safety-netted."},
                    headers=token_for(doc)).status_code == 200

    sign_in(client, doc.email)
    html = client.get(f"/console/encounters/{eid}", headers=HTML).get_data(as_text=True)
    assert "Viral sore throat; safety-netted." in html and 'id="summary-h"' in html
    assert "the account holder themself" in html and "self of the account holder" not in html


def test_chart_ranges_read_in_words_and_blood_pressure_has_a_legend(app, client, make_user, token_for, key_for):
    holder, doc = make_user(), make_user(role="clinician", password=PASSWORD)
    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(holder), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.post(f"/api/v1/patients/{pid}/wearables", headers=key_for(holder),
             json={"source": "apple_watch", "samples": week_of_samples(datetime.now(timezone.utc))})
    grant = api.post("/api/v1/grants", headers=token_for(doc), json={
        "email": holder.email, "scopes": ["wearables"]}).get_json()
    assert api.post(f"/api/v1/grants/{grant['id']}/accept", headers=token_for(holder),
                    json={"patient_id": pid}).status_code == 200

    sign_in(client, doc.email)
    html = client.get(f"/console/patients/{pid}", headers=HTML).get_data(as_text=True)
    assert '<option value="7d" selected>Last 7 days</option>' in html and "Last 24 hours" in html
    assert "last 7d" not in html
    assert '<span class="key key-1"></span> systolic <span class="key key-2"></span> diastolic' in html
