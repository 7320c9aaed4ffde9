"""The clinician's view: the queue shows an excerpt, the patient's age and sex and how long
each question waited (never a name before taking it); the encounter page shows how to ask
the account holder for data access."""
from datetime import date, timedelta

import pytest

from avycenna.encounters.patient_view import age_on
from tests.agent_helpers import ask, ready_patient, subscribe
from tests.test_grant_scopes import grant
from tests.test_web_security import HTML, csrf_token, sign_in

PASSWORD = "correct horse battery"


def test_age_counts_whole_years():
    assert age_on(date(1980, 5, 17), date(2026, 5, 16)) == 45
    assert age_on(date(1980, 5, 17), date(2026, 5, 17)) == 46
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25


@pytest.fixture
def waiting(app, client, make_user, key_for):
    """A member's question in the queue for a woman born 1980-01-02, and the clinician."""
    member, admin = make_user(email="holder@example.test"), make_user(role="admin")
    doc = make_user(role="clinician", email="doc@example.test", password=PASSWORD, name="Dr. Sarah Chen")
    api = app.test_client()
    subscribe(api, key_for(member), key_for(admin))
    pid = ready_patient(api, key_for(member), key_for(admin))
    assert api.patch(f"/api/v1/patients/{pid}", json={"sex_at_birth": "female"},
                     headers=key_for(member)).status_code == 200
    encounter = ask(api, key_for(member), patient_id=pid).get_json()
    assert encounter["status"] == "submitted"
    return {"api": api, "doc": doc, "doc_key": key_for(doc), "member": member, "id": encounter["encounter_id"],
            "patient": pid}


def test_queue_shows_excerpt_age_and_wait_and_sex_only_under_a_profile_grant(client, waiting, key_for):
    today = date.today()
    age = today.year - 1980 - ((today.month, today.day) < (1, 2))
    queue = lambda: waiting["api"].get("/api/v1/encounters/queue", headers=waiting["doc_key"]).get_json()["data"][0]
    entry = queue()
    assert (entry["patient_age"], entry["patient_sex_at_birth"]) == (age, None)  # sex is identity
    assert "name" not in entry and "date_of_birth" not in entry
    sign_in(client, waiting["doc"].email)
    html = client.get("/console", headers=HTML).get_data(as_text=True)
    assert "I have had a dry cough for three weeks, worse at night" in html
    assert f"{age} years" in html and "Female" not in html and "waiting 0 min" in html
    assert "Pat Example" not in html and "1980-01-02" not in html and f">{waiting['id']}<" not in html

    grant(waiting["api"], key_for(waiting["member"]), waiting["doc_key"], waiting["member"], waiting["patient"],
          ["profile"])
    assert queue()["patient_sex_at_birth"] == "female"
    html = client.get("/console", headers=HTML).get_data(as_text=True)
    assert "Female" in html and "Pat Example" in html  # the profile grant shows who it is


def test_a_member_cannot_read_the_queue(waiting, key_for):
    assert waiting["api"].get("/api/v1/encounters/queue", headers=key_for(waiting["member"])).status_code == 403


def test_encounter_page_offers_a_one_click_access_request(client, waiting, mailbox):
    api, eid = waiting["api"], waiting["id"]
    before = client  # the clinician's browser session
    sign_in(before, waiting["doc"].email)
    token = csrf_token(before, "/console")
    before.post(f"/console/encounters/{eid}/take", data={"csrf_token": token})
    html = before.get(f"/console/encounters/{eid}", headers=HTML).get_data(as_text=True)
    assert "Ask for access to profile and wearables" in html
    assert "holder@example.test" not in html  # the API shows a clinician the address only in a grant
    r = before.post(f"/console/encounters/{eid}/access-request", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("#access")
    html = before.get(f"/console/encounters/{eid}", headers=HTML).get_data(as_text=True)
    assert "Request pending" in html and "Request sent" in html and "mailto:holder@example.test" in html
    assert "/account/grants#grant-" in mailbox.last_body("holder@example.test")
    # Asking again (page or API) returns the pending request instead of mailing twice.
    again = api.post(f"/api/v1/encounters/{eid}/access-request", headers=waiting["doc_key"])
    assert again.status_code == 200 and again.get_json()["status"] == "pending"
    assert again.get_json()["email"] == "holder@example.test"
    assert len(mailbox.to("holder@example.test")) == 1


def test_access_request_needs_the_encounter_taken_by_you(waiting, make_user, key_for):
    api, eid = waiting["api"], waiting["id"]
    assert api.post(f"/api/v1/encounters/{eid}/access-request", headers=waiting["doc_key"]).status_code == 404
    api.post(f"/api/v1/encounters/{eid}/take", headers=waiting["doc_key"])
    other = key_for(make_user(role="clinician"))
    assert api.post(f"/api/v1/encounters/{eid}/access-request", headers=other).status_code == 404
    assert api.post(f"/api/v1/encounters/{eid}/access-request",
                    headers=key_for(waiting["member"])).status_code == 403
