"""Who a patient is (name, date of birth, sex) reaches a clinician only under an active grant
with the `profile` scope, or while they hold an encounter of that patient — on the API and on
the console pages alike; every such read is audited; a demoted clinician loses everything."""
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.agent_helpers import ask, ready_patient, subscribe
from tests.factories import audit_events
from tests.test_web_security import HTML, csrf_token, sign_in

PASSWORD = "correct horse battery"
NAME, BORN = "Ana Diaz", "1980-01-02"


@pytest.fixture
def clinic(app, make_user, token_for, key_for):
    """A holder with one ready patient, a clinician (who can also sign in to the pages) and an admin."""
    holder = make_user(email="ana@example.test", password=PASSWORD)
    doc = make_user(role="clinician", email="doc@clinic.test", password=PASSWORD, name="Dr. Chen")
    admin = make_user(role="admin")
    api = app.test_client()
    pid = ready_patient(api, key_for(holder), token_for(admin))
    api.patch(f"/api/v1/patients/{pid}", headers=key_for(holder), json={"name": NAME, "sex_at_birth": "female"})
    return {"api": api, "holder": holder, "doc": doc, "admin": admin, "pid": pid,
            "ana": key_for(holder), "dr": key_for(doc), "boss": token_for(admin)}


def grant(clinic, scopes, **extra):
    api = clinic["api"]
    g = api.post("/api/v1/grants", headers=clinic["dr"],
                 json={"email": clinic["holder"].email, "scopes": scopes, **extra}).get_json()
    r = api.post(f"/api/v1/grants/{g['id']}/accept", headers=clinic["ana"], json={"patient_id": clinic["pid"]})
    assert r.status_code == 200, r.get_json()
    return g["id"]


def api_views(clinic, grant_id):
    """The grant as the clinician's API shows it: in the list and on its own."""
    api = clinic["api"]
    listed = api.get("/api/v1/grants/outgoing", headers=clinic["dr"]).get_json()["data"]
    return [next(g for g in listed if g["id"] == grant_id),
            api.get(f"/api/v1/grants/{grant_id}", headers=clinic["dr"]).get_json()]


def console_pages(client, clinic):
    return "".join(client.get(path, headers=HTML).get_data(as_text=True)
                   for path in ("/console", "/console/patients", f"/console/patients/{clinic['pid']}"))


def identity_reads(app, clinic):
    return [e for e in audit_events(app, patient_id=clinic["pid"], action="patient.identity.read")
            if e.actor_user_id == clinic["doc"].id]


def test_wearables_grant_gives_the_patient_id_but_not_who_they_are(app, client, clinic):
    grant_id = grant(clinic, ["wearables"])
    for shown in api_views(clinic, grant_id):
        assert shown["status"] == "active" and shown["patient_id"] == clinic["pid"] and shown["patient"] is None
    sign_in(client, clinic["doc"].email)
    html = console_pages(client, clinic)
    assert f"Patient {clinic['pid'][:8]}" in html and "Heart rate" in html  # the charts are still there
    assert NAME not in html and BORN not in html and "female" not in html.lower()
    assert identity_reads(app, clinic) == []


def test_profile_grant_shows_who_and_each_read_is_in_the_holders_access_log(app, client, clinic):
    grant_id = grant(clinic, ["profile", "wearables"])
    for shown in api_views(clinic, grant_id):
        assert shown["patient"] == {"id": clinic["pid"], "name": NAME, "date_of_birth": BORN,
                                    "relationship": "self"}
    sign_in(client, clinic["doc"].email)
    html = client.get(f"/console/patients/{clinic['pid']}", headers=HTML).get_data(as_text=True)
    assert f"<h1>{NAME}</h1>" in html and BORN in html and "Female" in html
    assert NAME in client.get("/console/patients", headers=HTML).get_data(as_text=True)

    reads = identity_reads(app, clinic)
    assert len(reads) == 4 and all(f'"grant_id": "{grant_id}"' in e.details for e in reads)
    log = clinic["api"].get(f"/api/v1/patients/{clinic['pid']}/access-log", headers=clinic["ana"]).get_json()
    seen = [e for e in log["data"] if e["action"] == "patient.identity.read"]
    assert len(seen) == 4 and {e["actor_email"] for e in seen} == {"doc@clinic.test"}


@pytest.mark.parametrize("ending", ["revoked by the holder", "revoked by the clinician", "expired"])
def test_identity_is_gone_after_revoke_or_expiry(app, client, clinic, ending):
    api = clinic["api"]
    start = datetime.now()
    with time_machine.travel(start, tick=False) as clock:
        grant_id = grant(clinic, ["profile", "wearables"], expires_at=(start + timedelta(days=2)).isoformat() + "Z")
        assert api_views(clinic, grant_id)[0]["patient"]["name"] == NAME
        if ending == "expired":
            clock.shift(timedelta(days=3))
        else:
            who = clinic["ana"] if "holder" in ending else clinic["dr"]
            assert api.post(f"/api/v1/grants/{grant_id}/revoke", headers=who).status_code == 200
        before = len(identity_reads(app, clinic))
        for shown in api_views(clinic, grant_id):
            assert shown["patient"] is None and shown["patient_id"] is None
        assert api.get(f"/api/v1/patients/{clinic['pid']}", headers=clinic["dr"]).get_json() == {
            "detail": "Grant not found or access denied."}
        sign_in(client, clinic["doc"].email)
        html = console_pages(client, clinic)
        assert NAME not in html and BORN not in html
        assert len(identity_reads(app, clinic)) == before


def submitted_encounter(clinic):
    api = clinic["api"]
    subscribe(api, clinic["ana"], clinic["boss"], plan="yearly")
    r = ask(api, clinic["ana"], patient_id=clinic["pid"]).get_json()
    assert r["status"] == "submitted", r
    return r["encounter_id"]


def test_queue_names_a_patient_only_to_whoever_holds_the_encounter(app, client, clinic, make_user):
    eid = submitted_encounter(clinic)
    sign_in(client, clinic["doc"].email)
    queue = client.get("/console", headers=HTML).get_data(as_text=True)
    assert eid in queue and NAME not in queue
    assert clinic["api"].post(f"/api/v1/encounters/{eid}/take", headers=clinic["dr"]).status_code == 200
    mine = client.get("/console", headers=HTML).get_data(as_text=True)
    assert f"{NAME} · taken" in mine  # they hold it now
    reads = identity_reads(app, clinic)
    assert reads and '"via": "encounter"' in reads[-1].details

    other = make_user(role="clinician", password=PASSWORD)
    second = clinic["api"].application.test_client()
    sign_in(second, other.email)
    assert NAME not in console_pages(second, clinic)


def test_a_clinician_made_a_member_loses_clinician_rights_at_once(app, client, clinic):
    api, dr = clinic["api"], clinic["dr"]
    grant_id = grant(clinic, ["profile", "wearables"])
    eid = submitted_encounter(clinic)
    assert api.post(f"/api/v1/encounters/{eid}/take", headers=dr).status_code == 200
    assert api.post(f"/api/v1/encounters/{eid}/messages", headers=dr, json={"body": "Any fever?"}).status_code == 201
    sign_in(client, clinic["doc"].email)
    assert client.get(f"/console/encounters/{eid}", headers=HTML).status_code == 200

    r = api.patch(f"/api/v1/admin/users/{clinic['doc'].id}", headers=clinic["boss"], json={"role": "member"})
    assert r.status_code == 200 and r.get_json()["role"] == "member"

    for method, path, body in [("get", "messages", None), ("post", "messages", {"body": "Still there"})]:
        r = getattr(api, method)(f"/api/v1/encounters/{eid}/{path}", headers=dr, json=body)
        assert (r.status_code, r.get_json()) == (404, {"detail": "Encounter not found."}), path
    assert api.get(f"/api/v1/encounters/{eid}", headers=dr).status_code == 404
    assert api.get(f"/api/v1/encounters/{eid}/patient", headers=dr).status_code == 403
    assert api.get(f"/api/v1/patients/{clinic['pid']}/wearables?type=heart_rate", headers=dr).status_code == 404
    assert api.get(f"/api/v1/patients/{clinic['pid']}", headers=dr).status_code == 404
    for shown in api_views(clinic, grant_id):
        assert shown["patient"] is None and shown["patient_id"] is None
    for path in ("/console", f"/console/encounters/{eid}", "/console/patients"):
        assert client.get(path, headers=HTML).status_code == 403, path
    # The holder still reads their encounter and its messages.
    assert api.get(f"/api/v1/encounters/{eid}/messages", headers=clinic["ana"]).status_code == 200


def test_refused_page_attempts_on_anothers_patient_read_as_missing_and_reach_the_access_log(
        app, client, clinic, make_user):
    stranger = make_user(email="nosy@example.test", password=PASSWORD)
    missing = "00000000-0000-4000-8000-000000000000"
    sign_in(client, stranger.email)
    token = csrf_token(client, "/account")
    for pid in (clinic["pid"], missing):
        r = client.get(f"/account/patients/{pid}", headers=HTML)
        assert r.status_code == 404 and NAME not in r.get_data(as_text=True)
        r = client.post(f"/account/patients/{pid}", data={"name": "Hacked", "csrf_token": token}, headers=HTML)
        assert r.status_code == 404
    doc = app.test_client()
    sign_in(doc, clinic["doc"].email)  # a clinician with no grant
    assert doc.get(f"/console/patients/{clinic['pid']}", headers=HTML).status_code == 404
    assert doc.get(f"/console/patients/{missing}", headers=HTML).status_code == 404

    denied = audit_events(app, patient_id=clinic["pid"], outcome="denied")
    assert [e.actor_user_id for e in denied] == [stranger.id, stranger.id, clinic["doc"].id]
    assert clinic["api"].get(f"/api/v1/patients/{clinic['pid']}", headers=clinic["ana"]).get_json()["name"] == NAME
    holder = app.test_client()
    sign_in(holder, clinic["holder"].email)
    log = holder.get(f"/account/patients/{clinic['pid']}/access-log", headers=HTML).get_data(as_text=True)
    assert log.count("nosy@example.test") == 2 and "doc@clinic.test" in log


def test_in_real_browsers_the_name_leaves_the_console_when_the_holder_revokes(live_server, tabs, make_user, key_for):
    import requests

    from tests.web_fixtures import sign_in_with_password

    holder = make_user(email="ana@example.test", password=PASSWORD)
    make_user(role="clinician", email="doc@clinic.test", password=PASSWORD)
    ana, base = key_for(holder), live_server.url + "/api/v1"
    pid = requests.post(base + "/patients", headers=ana, timeout=10, json={
        "name": NAME, "date_of_birth": BORN, "relationship": "self"}).json()["id"]

    doc = tabs()
    sign_in_with_password(doc, "doc@clinic.test", PASSWORD)
    doc.goto("/console/patients")
    doc.fill("#grant-email", "ana@example.test")
    doc.click("text=Send request")  # profile and wearables are ticked by default
    doc.wait_for_selector("text=Request sent")

    me = tabs(phone=True)
    sign_in_with_password(me, "ana@example.test", PASSWORD)
    me.goto("/account/grants")
    me.select_option("select[name=patient_id]", label=f"{NAME} (Myself)")
    me.click("button:has-text('Accept')")
    me.wait_for_selector("text=Access given.")

    doc.goto("/console/patients")
    assert NAME in doc.inner_text("main")
    doc.click(f"a:has-text('{NAME}')")
    assert doc.inner_text("h1") == NAME and BORN in doc.inner_text("main")

    me.click("button:has-text('Revoke')")
    me.wait_for_selector("text=Access revoked")
    doc.goto("/console/patients")
    assert NAME not in doc.inner_text("main") and BORN not in doc.inner_text("main")
    assert doc.goto(f"/console/patients/{pid}").status == 404


def test_only_admins_review_id_verifications_on_the_api_the_pages_and_the_service(app, client, clinic):
    from avycenna.db import database
    from avycenna.errors import ApiError
    from avycenna.patients.service import review_id_verification

    api, missing = clinic["api"], "00000000-0000-4000-8000-000000000000"
    sign_in(client, clinic["doc"].email)
    token = csrf_token(client, "/console")
    assert client.get("/admin/id-verifications", headers=HTML).status_code == 403
    for pid in (clinic["pid"], missing):
        r = api.post(f"/api/v1/patients/{pid}/id-verification/reject", json={}, headers=clinic["dr"])
        assert (r.status_code, r.get_json()) == (403, {"detail": "Your role does not allow this."})
        assert client.post(f"/admin/id-verifications/{pid}/reject", data={"csrf_token": token},
                           headers=HTML).status_code == 403
    with app.test_request_context(), database.obj.connection_context():
        with pytest.raises(ApiError) as refused:
            review_id_verification(clinic["doc"], clinic["pid"], approve=False)
    assert refused.value.code == 403
    assert api.get(f"/api/v1/patients/{clinic['pid']}", headers=clinic["ana"]).get_json()[
        "id_verification_status"] == "verified"
