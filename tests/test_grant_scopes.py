"""What each grant scope opens beyond wearables: `profile` → the patient, `encounters` → their encounters."""
import pytest

from tests.agent_helpers import add_patient, ask, bearer

DENIED = {"detail": "Grant not found or access denied."}


@pytest.fixture
def people(make_user, token_for):
    holder, dr = make_user("member"), make_user("clinician")
    return token_for(holder), token_for(dr), holder


def grant(client, holder_h, dr_h, holder, patient_id, scopes):
    r = client.post("/api/v1/grants", headers=dr_h, json={"email": holder.email, "scopes": scopes})
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["id"]
    assert client.post(f"/api/v1/grants/{gid}/accept", headers=holder_h,
                       json={"patient_id": patient_id}).status_code == 200
    return gid


def test_profile_grant_lets_the_clinician_read_the_patient_until_revoked(client, people):
    holder_h, dr_h, holder = people
    pid = add_patient(client, holder_h)
    assert client.get(f"/api/v1/patients/{pid}", headers=dr_h).get_json() == DENIED
    gid = grant(client, holder_h, dr_h, holder, pid, ["profile"])
    r = client.get(f"/api/v1/patients/{pid}", headers=dr_h)
    assert r.status_code == 200 and r.get_json()["id"] == pid
    assert client.post(f"/api/v1/grants/{gid}/revoke", headers=holder_h).status_code == 200
    r = client.get(f"/api/v1/patients/{pid}", headers=dr_h)
    assert r.status_code == 404 and r.get_json() == DENIED


def test_wearables_grant_does_not_open_the_profile(client, people):
    holder_h, dr_h, holder = people
    pid = add_patient(client, holder_h)
    grant(client, holder_h, dr_h, holder, pid, ["wearables"])
    assert client.get(f"/api/v1/patients/{pid}", headers=dr_h).status_code == 404


def test_encounters_grant_opens_the_patients_encounters(client, people, make_user, token_for):
    holder_h, dr_h, holder = people
    pid = add_patient(client, holder_h)
    enc = ask(client, holder_h, patient_id=pid).get_json()["encounter_id"]
    assert client.get(f"/api/v1/encounters/{enc}", headers=dr_h).status_code == 404
    grant(client, holder_h, dr_h, holder, pid, ["profile"])
    assert client.get(f"/api/v1/encounters/{enc}", headers=dr_h).status_code == 404
    grant(client, holder_h, dr_h, holder, pid, ["encounters"])
    r = client.get(f"/api/v1/encounters/{enc}", headers=dr_h)
    assert r.status_code == 200 and r.get_json()["id"] == enc
    other_dr = token_for(make_user("clinician"))
    assert client.get(f"/api/v1/encounters/{enc}", headers=other_dr).status_code == 404


def test_reads_under_a_grant_are_in_the_holders_access_log(client, people):
    holder_h, dr_h, holder = people
    pid = add_patient(client, holder_h)
    grant(client, holder_h, dr_h, holder, pid, ["profile"])
    client.get(f"/api/v1/patients/{pid}", headers=dr_h)
    log = client.get(f"/api/v1/patients/{pid}/access-log", headers=holder_h).get_json()["data"]
    reads = [e for e in log if e["action"] == "patient.read" and e["actor_role"] == "clinician"]
    assert len(reads) == 1 and reads[0]["target_id"] == pid
