"""Grants: a clinician asks by e-mail, the holder accepts for a patient, declines or revokes."""
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.factories import audit_events, make_patient

DENIED = {"detail": "Grant not found or access denied."}


@pytest.fixture
def people(make_user, key_for, app):
    """A clinician, an account holder with one patient, and their API-key headers (keys never
    expire, so the clock can travel)."""
    clinician = make_user("clinician", email="dr.chen@clinic.test", name="Dr. Sarah Chen")
    holder = make_user("member", email="alex@example.test")
    patient = make_patient(app, holder)
    return {"clinician": clinician, "holder": holder, "patient": patient,
            "dr": key_for(clinician), "alex": key_for(holder)}


def ask(client, people, scopes=("wearables",), **extra):
    r = client.post("/api/v1/grants", headers=people["dr"],
                    json={"email": "Alex@Example.test", "scopes": list(scopes), **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def accept(client, people, grant_id):
    return client.post(f"/api/v1/grants/{grant_id}/accept", headers=people["alex"],
                       json={"patient_id": str(people["patient"].id)})


def test_clinician_asks_and_holder_sees_it_incoming(client, people, caplog):
    caplog.set_level("INFO", logger="avycenna.mail")
    grant = ask(client, people, scopes=("profile", "wearables"), message="Follow-up after surgery")
    assert grant["status"] == "pending" and grant["id"].startswith("grt_")
    assert grant["email"] == "alex@example.test" and grant["scopes"] == ["profile", "wearables"]
    assert grant["patient"] is None and grant["clinician"]["name"] == "Dr. Sarah Chen"
    assert "notice not sent" in caplog.text and "alex@example.test" not in caplog.text  # no MAIL_HOST
    incoming = client.get("/api/v1/grants/incoming", headers=people["alex"]).get_json()
    assert [g["id"] for g in incoming["data"]] == [grant["id"]] and incoming["next_cursor"] is None


def test_only_clinicians_ask_and_scopes_are_checked(client, people):
    r = client.post("/api/v1/grants", headers=people["alex"], json={"email": "x@example.test", "scopes": ["profile"]})
    assert r.status_code == 403
    r = client.post("/api/v1/grants", headers=people["dr"], json={"email": "x@example.test", "scopes": ["billing"]})
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "scopes", 0]
    r = client.post("/api/v1/grants", headers=people["dr"], json={"email": "x@example.test", "scopes": []})
    assert r.status_code == 422
    r = client.post("/api/v1/grants", headers=people["dr"],
                    json={"email": "x@example.test", "scopes": ["profile"], "expires_at": "2001-01-01T00:00:00Z"})
    assert r.status_code == 409 and r.get_json() == {"detail": "expires_at has already passed."}


def test_accounts_created_later_see_requests_sent_to_their_email(client, people, make_user, token_for):
    r = client.post("/api/v1/grants", headers=people["dr"], json={"email": "new@example.test", "scopes": ["profile"]})
    newcomer = make_user("member", email="new@example.test")
    data = client.get("/api/v1/grants/incoming", headers=token_for(newcomer)).get_json()["data"]
    assert [g["id"] for g in data] == [r.get_json()["id"]]


def test_accept_makes_the_patient_one_of_the_clinicians_patients(client, people, app):
    grant = ask(client, people)
    r = accept(client, people, grant["id"])
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    out = client.get("/api/v1/grants/outgoing?status=active", headers=people["dr"]).get_json()["data"]
    assert len(out) == 1
    # A `wearables` grant names the patient's id, not who they are (test_privacy has `profile`).
    assert out[0]["patient_id"] == str(people["patient"].id) and out[0]["patient"] is None
    assert client.get("/api/v1/grants/outgoing?status=pending", headers=people["dr"]).get_json()["data"] == []
    actions = [e.action for e in audit_events(app, target_id=grant["id"])]
    assert actions == ["grant.request", "grant.accept"]


def test_accept_needs_one_of_the_holders_own_live_patients(client, people, make_user, app):
    grant = ask(client, people)
    stranger_patient = make_patient(app, make_user("member"))
    archived = make_patient(app, people["holder"], name="Old", relationship="child", archived=True)
    for patient in (stranger_patient, archived):
        r = client.post(f"/api/v1/grants/{grant['id']}/accept", headers=people["alex"],
                        json={"patient_id": str(patient.id)})
        assert r.status_code == 404 and r.get_json() == DENIED


def test_decline_and_no_second_answer(client, people):
    grant = ask(client, people)
    r = client.post(f"/api/v1/grants/{grant['id']}/decline", headers=people["alex"])
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    assert accept(client, people, grant["id"]).status_code == 409
    out = client.get("/api/v1/grants/outgoing?status=declined", headers=people["dr"]).get_json()["data"]
    assert [g["id"] for g in out] == [grant["id"]] and out[0]["patient"] is None


def test_the_clinician_cannot_accept_or_decline_their_own_request(client, people):
    grant = ask(client, people)
    for verb in ("decline", "accept"):
        r = client.post(f"/api/v1/grants/{grant['id']}/{verb}", headers=people["dr"],
                        json={"patient_id": str(people["patient"].id)} if verb == "accept" else None)
        assert r.status_code == 404 and r.get_json() == DENIED


def test_strangers_get_the_same_404_as_for_nothing(client, people, make_user, token_for):
    grant = ask(client, people)
    other_dr = token_for(make_user("clinician"))
    for path in (f"/api/v1/grants/{grant['id']}", "/api/v1/grants/grt_doesnotexist"):
        r = client.get(path, headers=other_dr)
        assert r.status_code == 404 and r.get_json() == DENIED
    r = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=other_dr)
    assert r.status_code == 404 and r.get_json() == DENIED
    assert client.get(f"/api/v1/grants/{grant['id']}", headers=people["alex"]).status_code == 200
    assert client.get(f"/api/v1/grants/{grant['id']}", headers=people["dr"]).status_code == 200


@pytest.mark.parametrize("side", ["dr", "alex"])
def test_revoke_from_either_side_ends_access_on_the_next_request(client, people, side, app):
    grant = ask(client, people)
    accept(client, people, grant["id"])
    path = f"/api/v1/patients/{people['patient'].id}/wearables?type=heart_rate"
    assert client.get(path, headers=people["dr"]).status_code == 200
    r = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=people[side])
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    assert r.get_json()["revoked_by"] == ("clinician" if side == "dr" else "holder")
    r = client.get(path, headers=people["dr"])
    assert r.status_code == 404 and r.get_json() == DENIED
    assert client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=people[side]).status_code == 409
    assert [e.action for e in audit_events(app, target_id=grant["id"])][-1] == "grant.revoke"


def test_unanswered_requests_expire_after_seven_days(client, people):
    with time_machine.travel(datetime(2026, 11, 1, 9, 0), tick=False):
        grant = ask(client, people)
    with time_machine.travel(datetime(2026, 11, 8, 8, 59), tick=False):
        assert client.get(f"/api/v1/grants/{grant['id']}", headers=people["dr"]).get_json()["status"] == "pending"
    with time_machine.travel(datetime(2026, 11, 8, 9, 1), tick=False):
        assert client.get(f"/api/v1/grants/{grant['id']}", headers=people["dr"]).get_json()["status"] == "expired"
        expired = client.get("/api/v1/grants/outgoing?status=expired", headers=people["dr"]).get_json()["data"]
        assert [g["id"] for g in expired] == [grant["id"]]
        assert client.get("/api/v1/grants/incoming?status=pending", headers=people["alex"]).get_json()["data"] == []
        r = accept(client, people, grant["id"])
        assert r.status_code == 409 and r.get_json() == {"detail": "Grant is expired."}


def test_active_grant_ends_at_its_expires_at(client, people):
    with time_machine.travel(datetime(2026, 11, 1, 9, 0), tick=False):
        grant = ask(client, people, expires_at="2026-11-03T09:00:00Z")
        accept(client, people, grant["id"])
    path = f"/api/v1/patients/{people['patient'].id}/wearables/summary?type=heart_rate"
    with time_machine.travel(datetime(2026, 11, 3, 8, 59), tick=False):
        assert client.get(path, headers=people["dr"]).status_code == 200
    with time_machine.travel(datetime(2026, 11, 3, 9, 0), tick=False):
        assert client.get(path, headers=people["dr"]).status_code == 404
        out = client.get("/api/v1/grants/outgoing", headers=people["dr"]).get_json()["data"]
        assert out[0]["status"] == "expired" and out[0]["patient"] is None


def test_a_grant_without_the_wearables_scope_does_not_open_wearables(client, people):
    grant = ask(client, people, scopes=("profile",))
    accept(client, people, grant["id"])
    r = client.get(f"/api/v1/patients/{people['patient'].id}/wearables?type=steps", headers=people["dr"])
    assert r.status_code == 404 and r.get_json() == DENIED


def test_outgoing_pages_with_a_cursor(client, people):
    ids = [ask(client, people)["id"] for _ in range(3)]
    first = client.get("/api/v1/grants/outgoing?limit=2", headers=people["dr"]).get_json()
    second = client.get(f"/api/v1/grants/outgoing?limit=2&cursor={first['next_cursor']}",
                        headers=people["dr"]).get_json()
    assert sorted(g["id"] for g in first["data"] + second["data"]) == sorted(ids)
    assert second["next_cursor"] is None
