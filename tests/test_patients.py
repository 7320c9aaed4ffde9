"""Patients: CRUD with archive, one `self`, validation, consent, ID verification, and 404s."""
import json

import pytest


ALICE = {"name": "Alice Example", "date_of_birth": "1980-05-01", "relationship": "self"}


@pytest.fixture
def member(make_user, token_for):
    user = make_user()
    return user, token_for(user)


def add(client, headers, **changes):
    r = client.post("/api/v1/patients", json={**ALICE, **changes}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_read_list_patch_archive(client, member):
    _, h = member
    p = add(client, h, sex_at_birth="female")
    assert p["relationship"] == "self" and p["id_verification_status"] == "unverified"
    assert p["consent_current"] is False and p["created_at"].endswith("Z")
    kid = add(client, h, name="Bo", relationship="child", date_of_birth="2015-02-02")
    assert client.get(f"/api/v1/patients/{p['id']}", headers=h).get_json()["name"] == "Alice Example"
    r = client.patch(f"/api/v1/patients/{kid['id']}", json={"name": " Bobby "}, headers=h)
    assert r.status_code == 200 and r.get_json()["name"] == "Bobby"
    assert [x["id"] for x in client.get("/api/v1/patients", headers=h).get_json()["data"]] == [p["id"], kid["id"]]
    assert client.get("/api/v1/patients?relationship=child", headers=h).get_json()["data"][0]["id"] == kid["id"]
    assert client.delete(f"/api/v1/patients/{kid['id']}", headers=h).status_code == 204
    assert [x["id"] for x in client.get("/api/v1/patients", headers=h).get_json()["data"]] == [p["id"]]
    archived = client.get(f"/api/v1/patients/{kid['id']}", headers=h).get_json()
    assert archived["archived_at"] is not None
    assert client.patch(f"/api/v1/patients/{kid['id']}", json={"name": "X"}, headers=h).status_code == 409


def test_pages_with_cursor(client, member):
    _, h = member
    ids = [add(client, h, relationship="child", name=f"K{i}")["id"] for i in range(3)]
    first = client.get("/api/v1/patients?limit=2", headers=h).get_json()
    second = client.get(f"/api/v1/patients?limit=2&cursor={first['next_cursor']}", headers=h).get_json()
    assert [x["id"] for x in first["data"] + second["data"]] == ids and second["next_cursor"] is None


def test_only_one_self_per_account_is_409(client, member):
    _, h = member
    add(client, h)
    r = client.post("/api/v1/patients", json=ALICE, headers=h)
    assert r.status_code == 409 and "self" in r.get_json()["detail"]
    other = add(client, h, relationship="spouse")
    assert client.patch(f"/api/v1/patients/{other['id']}", json={"relationship": "self"},
                        headers=h).status_code == 409


@pytest.mark.parametrize("changes,field", [
    ({"relationship": "cousin"}, "relationship"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"sex_at_birth": "robot"}, "sex_at_birth"),
])
def test_validation_is_422_with_location(client, member, changes, field):
    _, h = member
    r = client.post("/api/v1/patients", json={**ALICE, **changes}, headers=h)
    assert r.status_code == 422
    assert r.get_json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("stranger_role", ["member", "clinician"])
def test_another_accounts_patient_is_404_everywhere(app, client, member, make_user, token_for, stranger_role):
    from tests.factories import audit_events

    _, h = member
    p = add(client, h)
    stranger = make_user(role=stranger_role)
    missing = "00000000-0000-4000-8000-000000000000"
    calls = [("get", "", None), ("patch", "", {"name": "X"}), ("delete", "", None),
             ("post", "/consent", {"version": "2026-01"}), ("delete", "/consent", None),
             ("post", "/id-verification", {"document_type": "passport", "document_number": "X1234567"})]
    for method, path, body in calls:
        answers = [getattr(client, method)(f"/api/v1/patients/{pid}{path}", json=body, headers=token_for(stranger))
                   for pid in (p["id"], missing)]
        # Existing and missing read the same (status and message).
        assert [(r.status_code, r.get_json()) for r in answers] == \
            [(404, {"detail": "Grant not found or access denied."})] * 2, (method, path)
    # Every refused attempt on the existing patient is audited (the missing one names no patient),
    # even those refused inside a write transaction, and the holder sees them in the access log.
    denied = audit_events(app, patient_id=p["id"], outcome="denied")
    assert len(denied) == len(calls) and {e.actor_user_id for e in denied} == {stranger.id}
    assert audit_events(app, patient_id=missing) == []
    log = client.get(f"/api/v1/patients/{p['id']}/access-log", headers=h).get_json()["data"]
    assert sum(1 for e in log if e["outcome"] == "denied" and e["actor_email"] == stranger.email) == len(calls)
    assert client.get(f"/api/v1/patients/{p['id']}", headers=h).get_json()["name"] == "Alice Example"  # unchanged
    assert client.get("/api/v1/patients/not-a-uuid", headers=h).status_code == 404
    assert client.get("/api/v1/patients", headers=token_for(stranger)).get_json()["data"] == []


def test_patients_need_an_account(client):
    assert client.get("/api/v1/patients").status_code == 401
    assert client.get("/api/v1/patients", headers={"Authorization": "Bearer " + "e" * 64}).status_code == 401


def test_consent_text_give_wrong_version_and_withdraw(client, member):
    _, h = member
    text = client.get("/api/v1/consents/telehealth").get_json()
    assert text["version"] == "2026-01" and "telehealth" in text["text"]
    p = add(client, h)
    r = client.post(f"/api/v1/patients/{p['id']}/consent", json={"version": "1999"}, headers=h)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "version"]
    r = client.post(f"/api/v1/patients/{p['id']}/consent", json={"version": text["version"]}, headers=h)
    assert r.status_code == 200
    body = r.get_json()
    assert body["consent_version"] == "2026-01" and body["consent_given_at"].endswith("Z")
    assert body["consent_current"] is True
    r = client.delete(f"/api/v1/patients/{p['id']}/consent", headers=h)
    assert r.get_json()["consent_version"] is None and r.get_json()["consent_current"] is False


def test_id_verification_masked_then_approved_or_rejected_by_staff(client, member, make_user, token_for):
    _, h = member
    p = add(client, h)
    q = add(client, h, relationship="child", name="Kid")
    doc = {"document_type": "passport", "document_number": "X12-345 6789", "issuing_country": "US"}
    r = client.post(f"/api/v1/patients/{p['id']}/id-verification", json=doc, headers=h)
    assert r.status_code == 201
    assert r.get_json()["document_number_masked"] == "******6789" and "document_number" not in r.get_json()
    assert client.post(f"/api/v1/patients/{p['id']}/id-verification", json=doc, headers=h).status_code == 409
    client.post(f"/api/v1/patients/{q['id']}/id-verification", json=doc, headers=h)
    assert client.get(f"/api/v1/patients/{p['id']}", headers=h).get_json()["id_verification_status"] == "pending"

    assert client.get("/api/v1/id-verifications", headers=h).status_code == 403
    assert client.post(f"/api/v1/patients/{p['id']}/id-verification/approve", json={}, headers=h).status_code == 403
    # Only admins review ID verifications; a clinician is refused before any lookup, so an
    # existing and a missing patient read the same.
    doctor = token_for(make_user(role="clinician"))
    assert client.get("/api/v1/id-verifications", headers=doctor).status_code == 403
    for pid in (p["id"], "00000000-0000-4000-8000-000000000000"):
        r = client.post(f"/api/v1/patients/{pid}/id-verification/approve", json={}, headers=doctor)
        assert (r.status_code, r.get_json()) == (403, {"detail": "Your role does not allow this."})
    staff = token_for(make_user(role="admin"))
    pending = client.get("/api/v1/id-verifications?status=pending", headers=staff).get_json()["data"]
    assert [x["patient_id"] for x in pending] == [p["id"], q["id"]]
    assert pending[0]["patient_name"] == "Alice Example"
    assert client.post(f"/api/v1/patients/{p['id']}/id-verification/approve", json={},
                       headers=staff).get_json()["status"] == "verified"
    admin = token_for(make_user(role="admin"))
    r = client.post(f"/api/v1/patients/{q['id']}/id-verification/reject", json={"note": "blurry"}, headers=admin)
    assert r.get_json()["status"] == "rejected" and r.get_json()["review_note"] == "blurry"
    assert client.get(f"/api/v1/patients/{p['id']}", headers=h).get_json()["id_verification_status"] == "verified"
    assert client.get(f"/api/v1/patients/{q['id']}", headers=h).get_json()["id_verification_status"] == "rejected"
    assert client.post(f"/api/v1/patients/{p['id']}/id-verification/approve", json={},
                       headers=staff).status_code == 409
    assert client.get("/api/v1/id-verifications", headers=staff).get_json()["data"] == []
    # A rejected patient may try again.
    assert client.post(f"/api/v1/patients/{q['id']}/id-verification", json=doc, headers=h).status_code == 201
    assert client.post("/api/v1/patients/00000000-0000-0000-0000-000000000000/id-verification/approve",
                       json={}, headers=staff).status_code == 404


def test_id_verification_validation(client, member):
    _, h = member
    p = add(client, h)
    r = client.post(f"/api/v1/patients/{p['id']}/id-verification",
                    json={"document_type": "library_card", "document_number": "1<>"}, headers=h)
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.get_json()["detail"]} == {("body", "document_type"), ("body", "document_number")}


def test_every_patient_read_and_change_is_audited(app, client, member):
    from avycenna.audit.models import AuditEvent
    from avycenna.db import database

    user, h = member
    p = add(client, h)
    client.get(f"/api/v1/patients/{p['id']}", headers=h)
    client.patch(f"/api/v1/patients/{p['id']}", json={"name": "Alicia"}, headers=h)
    client.post(f"/api/v1/patients/{p['id']}/consent", json={"version": "2026-01"}, headers=h)
    client.delete(f"/api/v1/patients/{p['id']}", headers=h)
    with app.app_context(), database.obj.connection_context():
        events = list(AuditEvent.select().where(AuditEvent.patient_id == p["id"]).order_by(AuditEvent.at))
    assert [e.action for e in events] == ["patient.create", "patient.read", "patient.update",
                                          "patient.consent.give", "patient.archive"]
    assert all(e.actor_user_id == user.id and e.actor_type == "user" for e in events)
    assert all("Alic" not in e.details for e in events)
    assert json.loads(events[2].details) == {"fields": ["name"]}


def test_database_itself_refuses_a_second_live_self(app, make_user):
    """The service checks first; the partial unique index stops a racing second create."""
    from datetime import date

    import pytest
    from peewee import IntegrityError

    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.patients.models import Patient

    user = make_user()
    with app.app_context(), database.obj.connection_context():
        first = Patient.create(account=user, name="A", date_of_birth=date(1980, 1, 1), relationship="self")
        with pytest.raises(IntegrityError), database.obj.atomic():
            Patient.create(account=user, name="B", date_of_birth=date(1980, 1, 1), relationship="self")
        Patient.update(archived_at=utcnow()).where(Patient.id == first.id).execute()
        Patient.create(account=user, name="C", date_of_birth=date(1980, 1, 1), relationship="self")
        Patient.create(account=user, name="D", date_of_birth=date(2010, 1, 1), relationship="child")
