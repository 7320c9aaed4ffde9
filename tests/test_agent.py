"""POST /api/v1/agent/query: the response, query length, sessions, credentials, and every
pending reason alone and together."""
from datetime import datetime, timedelta

import pytest

from tests.agent_helpers import QUERY, add_patient, ask, bearer, db_read, ready_patient, subscribe

FIELDS = {"encounter_id", "status", "session_token", "encounter_token", "encounter_token_expires_at",
          "checkout_url", "auto_submit"}


@pytest.fixture
def staff(make_user, token_for):
    return {"clinician": token_for(make_user(role="clinician")), "admin": token_for(make_user(role="admin"))}


@pytest.fixture
def member(make_user, token_for, key_for):
    user = make_user()
    return {"user": user, "jwt": token_for(user), "key": key_for(user)}


def test_anonymous_query_response_shape(client):
    import time_machine

    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False):
        r = ask(client)
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == FIELDS
    assert body["encounter_id"].startswith("enc_") and body["status"] == "awaiting_checkout"
    assert len(body["encounter_token"]) == 64 and body["session_token"]
    assert body["encounter_token_expires_at"] == "2026-11-25T10:00:00Z"  # 72 h
    assert body["checkout_url"] == "http://127.0.0.1:8000/checkout/" + body["encounter_token"]
    assert body["auto_submit"] == {"submitted": False,
                                   "pending_reasons": ["patient_required", "subscription_required"]}


def test_checkout_url_uses_request_host_without_public_base_url(app, client):
    app.config["PUBLIC_BASE_URL"] = None
    body = ask(client).get_json()
    assert body["checkout_url"] == "http://localhost/checkout/" + body["encounter_token"]


@pytest.mark.parametrize("length,status", [(499, 422), (500, 200), (10000, 200), (10001, 422)])
def test_query_length_bounds(client, length, status):
    r = ask(client, query="x" * length)
    assert r.status_code == status
    if status == 422:
        assert r.get_json()["detail"][0]["loc"] == ["body", "query"]


def test_missing_query_and_bad_patient_id_are_422(client):
    assert client.post("/api/v1/agent/query", json={}).get_json()["detail"][0]["loc"] == ["body", "query"]
    r = ask(client, patient_id="not-a-uuid")
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "patient_id"]


def test_tokens_are_stored_only_as_hashes(app, client):
    from avycenna.encounters.models import Encounter

    body = ask(client).get_json()
    row = db_read(app, lambda: Encounter.get_by_id(body["encounter_id"]))
    stored = " ".join(str(v) for v in row.__data__.values())
    assert body["encounter_token"] not in stored and body["session_token"] not in stored
    assert len(row.encounter_token_hash) == 64 and len(row.session_token_hash) == 64


def test_session_token_continues_the_same_encounter_keeping_earlier_queries(app, client, member, staff):
    first = ask(client).get_json()
    second = ask(client, query="Second version. " * 40, session_token=first["session_token"]).get_json()
    assert second["encounter_id"] == first["encounter_id"]
    assert second["encounter_token"] == first["encounter_token"]
    assert second["encounter_token_expires_at"] == first["encounter_token_expires_at"]
    pid = ready_patient(client, member["jwt"], staff["admin"])
    client.post("/api/v1/checkout", json={"encounter_token": first["encounter_token"], "patient_id": pid},
                headers=member["jwt"])
    detail = client.get(f"/api/v1/encounters/{first['encounter_id']}", headers=member["jwt"]).get_json()
    assert detail["latest_query"].startswith("Second version.")
    assert [q["text"][:6] for q in detail["queries"]] == [QUERY[:6], "Second"]


def test_unknown_session_token_is_404(client):
    r = ask(client, session_token="nope")
    assert r.status_code == 404 and r.get_json() == {"detail": "Session not found."}


def test_another_accounts_session_is_404(client, member, make_user, token_for):
    first = ask(client, member["key"]).get_json()
    r = ask(client, token_for(make_user()), session_token=first["session_token"])
    assert r.status_code == 404


def test_signed_in_caller_continuing_an_anonymous_session_claims_it(client, member):
    first = ask(client).get_json()
    ask(client, member["key"], session_token=first["session_token"])
    assert client.get(f"/api/v1/encounters/{first['encounter_id']}", headers=member["key"]).status_code == 200


def test_credentials_on_agent_query(client):
    encounter = ask(client).get_json()
    r = ask(client, bearer(encounter["encounter_token"]))
    assert r.status_code == 401
    assert ask(client, {"X-API-Key": "avk_bogus"}).status_code == 401
    assert ask(client, bearer("a.b.c")).status_code == 401


# Pending reasons ------------------------------------------------------------------------------

@pytest.fixture
def subscriber(client, member, staff):
    subscribe(client, member["jwt"], staff["admin"])
    return member


def test_all_preconditions_hold_submits_at_once(client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"])
    body = ask(client, subscriber["key"], patient_id=pid).get_json()
    assert body["status"] == "submitted" and body["checkout_url"] is None
    assert body["auto_submit"] == {"submitted": True, "pending_reasons": []}


def test_patient_required_alone(client, subscriber):
    assert ask(client, subscriber["key"]).get_json()["auto_submit"]["pending_reasons"] == ["patient_required"]


def test_patient_not_owned_alone(client, subscriber, staff, make_user, token_for):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"], consent=False)
    first = ask(client, subscriber["key"], patient_id=pid).get_json()
    assert first["auto_submit"]["pending_reasons"] == ["telehealth_consent_required"]
    client.post(f"/api/v1/patients/{pid}/consent", json={"version": "2026-01"}, headers=subscriber["jwt"])
    foreign = add_patient(client, token_for(make_user()))
    again = ask(client, subscriber["key"], session_token=first["session_token"], patient_id=foreign).get_json()
    assert again["auto_submit"]["pending_reasons"] == ["patient_not_owned"]
    assert again["status"] == "awaiting_checkout"


def test_telehealth_consent_required_alone(client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"], consent=False)
    assert ask(client, subscriber["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "telehealth_consent_required"]


def test_consent_to_an_older_version_counts_as_missing(app, client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"])
    app.config["TELEHEALTH_CONSENT_VERSION"] = "2027-01"
    assert ask(client, subscriber["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "telehealth_consent_required"]


def test_patient_not_id_verified_alone(client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"], verify=False)
    assert ask(client, subscriber["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "patient_not_id_verified"]


def test_subscription_required_alone(client, member, staff):
    pid = ready_patient(client, member["jwt"], staff["admin"])
    assert ask(client, member["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "subscription_required"]


def test_pending_subscription_is_not_enough(client, member, staff):
    client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=member["jwt"])
    pid = ready_patient(client, member["jwt"], staff["admin"])
    assert ask(client, member["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "subscription_required"]


def test_rate_limit_reached_alone_when_allowance_used(app, client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"])
    included = app.config["BILLING_PLANS"][0]["included_encounters"]
    for _ in range(included):
        assert ask(client, subscriber["key"], patient_id=pid).get_json()["status"] == "submitted"
    body = ask(client, subscriber["key"], patient_id=pid).get_json()
    assert body["auto_submit"]["pending_reasons"] == ["rate_limit_reached"]
    assert body["checkout_url"] is not None


def test_reasons_together_in_the_guides_order(client, member, make_user, token_for):
    foreign = add_patient(client, token_for(make_user()))
    anonymous = ask(client, patient_id=foreign).get_json()["auto_submit"]["pending_reasons"]
    assert anonymous == ["patient_required", "patient_not_owned", "subscription_required"]
    signed_in = ask(client, member["key"], patient_id=foreign).get_json()["auto_submit"]["pending_reasons"]
    assert signed_in == ["patient_required", "patient_not_owned", "subscription_required"]
    pid = add_patient(client, member["jwt"])
    fresh = ask(client, member["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"]
    assert fresh == ["telehealth_consent_required", "patient_not_id_verified", "subscription_required"]


def test_anonymous_patient_id_never_leaks_existence(client, member):
    pid = add_patient(client, member["jwt"])
    real = ask(client, patient_id=pid).get_json()["auto_submit"]["pending_reasons"]
    fake = ask(client, patient_id="00000000-0000-4000-8000-000000000000").get_json()["auto_submit"]["pending_reasons"]
    assert real == fake == ["patient_required", "patient_not_owned", "subscription_required"]


def test_archived_patient_cannot_be_used(client, subscriber, staff):
    pid = ready_patient(client, subscriber["jwt"], staff["admin"])
    client.delete(f"/api/v1/patients/{pid}", headers=subscriber["jwt"])
    assert ask(client, subscriber["key"], patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == [
        "patient_required", "patient_not_owned"]


def test_query_is_audited_without_clinical_text(app, client, member):
    from avycenna.audit.models import AuditEvent

    body = ask(client).get_json()
    events = db_read(app, lambda: list(AuditEvent.select().where(AuditEvent.target_id == body["encounter_id"])))
    assert [(e.action, e.actor_type) for e in events] == [("encounter.query", "anonymous")]
    assert "cough" not in events[0].details and events[0].ip_hash and "127.0.0.1" not in events[0].ip_hash


def test_expires_at_is_72_hours_after_creation_not_after_last_query(client):
    import time_machine

    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        first = ask(client).get_json()
        clock.shift(timedelta(hours=30))
        again = ask(client, session_token=first["session_token"]).get_json()
    assert again["encounter_token_expires_at"] == "2026-11-25T10:00:00Z"
