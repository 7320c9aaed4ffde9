"""POST /api/v1/checkout: claim, bind, submit or say what is pending, one-off invoices."""
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.agent_helpers import add_patient, ask, ready_patient, subscribe


@pytest.fixture
def people(make_user, token_for):
    return {"member": token_for(make_user()), "stranger": token_for(make_user()),
            "clinician": token_for(make_user(role="clinician")), "admin": token_for(make_user(role="admin"))}


def checkout(client, headers, token, pid):
    return client.post("/api/v1/checkout", json={"encounter_token": token, "patient_id": pid}, headers=headers)


def test_subscriber_checkout_submits_and_claims(client, people):
    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    enc = ask(client).get_json()
    r = checkout(client, people["member"], enc["encounter_token"], pid)
    assert r.status_code == 200
    assert r.get_json() == {"encounter_id": enc["encounter_id"], "status": "submitted", "submitted": True,
                            "pending_reasons": [], "patient_id": pid, "invoice": None}
    mine = client.get("/api/v1/encounters", headers=people["member"]).get_json()["data"]
    assert [e["id"] for e in mine] == [enc["encounter_id"]] and mine[0]["payment"] == "subscription"
    assert checkout(client, people["member"], enc["encounter_token"], pid).status_code == 409


def test_pending_consent_and_id_then_release_when_they_clear(client, people):
    pid = ready_patient(client, people["member"], people["admin"], consent=False, verify=False)
    enc = ask(client).get_json()
    result = checkout(client, people["member"], enc["encounter_token"], pid).get_json()
    assert result["pending_reasons"] == ["telehealth_consent_required", "patient_not_id_verified",
                                         "subscription_required"]
    invoice = result["invoice"]
    client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid", headers=people["admin"])
    again = checkout(client, people["member"], enc["encounter_token"], pid).get_json()
    assert again["pending_reasons"] == ["telehealth_consent_required", "patient_not_id_verified"]
    assert again["invoice"] is None
    client.post(f"/api/v1/patients/{pid}/consent", json={"version": "2026-01"}, headers=people["member"])
    client.post(f"/api/v1/patients/{pid}/id-verification",
                json={"document_type": "passport", "document_number": "P7654321"}, headers=people["member"])
    client.post(f"/api/v1/patients/{pid}/id-verification/approve", json={}, headers=people["admin"])
    status = client.get(f"/api/v1/encounters/{enc['encounter_id']}", headers=people["member"]).get_json()
    assert status["status"] == "submitted" and status["payment"] == "invoice"


def test_the_same_open_invoice_is_returned_on_retry(client, people):
    pid = ready_patient(client, people["member"], people["admin"])
    enc = ask(client).get_json()
    first = checkout(client, people["member"], enc["encounter_token"], pid).get_json()["invoice"]
    second = checkout(client, people["member"], enc["encounter_token"], pid).get_json()["invoice"]
    assert first["id"] == second["id"]
    assert [i["id"] for i in client.get("/api/v1/invoices", headers=people["member"]).get_json()["data"]] == [
        first["id"]]


def test_rate_limit_reached_creates_a_one_off_invoice(app, client, people):
    app.config["BILLING_PLANS"] = [dict(app.config["BILLING_PLANS"][0], included_encounters=0)]
    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    enc = ask(client).get_json()
    result = checkout(client, people["member"], enc["encounter_token"], pid).get_json()
    assert result["pending_reasons"] == ["rate_limit_reached"] and result["invoice"]["kind"] == "encounter"


def test_unknown_token_foreign_patient_and_foreign_encounter_are_404(client, people):
    pid = add_patient(client, people["member"])
    enc = ask(client).get_json()
    assert checkout(client, people["member"], "x" * 64, pid).status_code == 404
    r = checkout(client, people["stranger"], enc["encounter_token"], pid)
    assert r.status_code == 404 and r.get_json() == {"detail": "Grant not found or access denied."}
    # The stranger claims it with their own patient; then it is theirs, and 404 for the member.
    theirs = add_patient(client, people["stranger"])
    assert checkout(client, people["stranger"], enc["encounter_token"], theirs).status_code == 200
    r = checkout(client, people["member"], enc["encounter_token"], pid)
    assert r.status_code == 404 and r.get_json() == {"detail": "Checkout link not found."}


def test_archived_patient_is_404(client, people):
    pid = add_patient(client, people["member"])
    client.delete(f"/api/v1/patients/{pid}", headers=people["member"])
    assert checkout(client, people["member"], ask(client).get_json()["encounter_token"], pid).status_code == 404


def test_expired_encounter_is_409(client, make_user, token_for):
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        member = token_for(make_user())
        pid = add_patient(client, member)
        enc = ask(client).get_json()
        clock.shift(timedelta(hours=72, seconds=1))
        member = token_for(make_user())
        r = checkout(client, member, enc["encounter_token"], pid)
    assert r.status_code == 409 and "expired" in r.get_json()["detail"]


def test_checkout_needs_an_account(client):
    enc = ask(client).get_json()
    assert client.post("/api/v1/checkout", json={"encounter_token": enc["encounter_token"],
                                                 "patient_id": "00000000-0000-4000-8000-000000000000"}).status_code == 401


def test_preview_for_the_pages_says_what_is_pending(app, client, make_user, token_for):
    """The service the HTML checkout page uses to show the state behind a link."""
    from avycenna.checkout.service import preview
    from avycenna.db import database
    from avycenna.errors import ApiError

    user = make_user()
    pid = add_patient(client, token_for(user))
    enc = ask(client, token_for(user), patient_id=pid).get_json()
    with app.test_request_context(), database.obj.connection_context():
        from flask import g

        from avycenna.actor import Actor

        g.actor = Actor("user", user=user)
        state = preview(user, enc["encounter_token"])
        assert state["pending_reasons"] == ["telehealth_consent_required", "patient_not_id_verified",
                                            "subscription_required"]
        with pytest.raises(ApiError) as err:
            preview(make_user(), enc["encounter_token"])
        assert err.value.code == 404


def test_checked_out_encounter_waiting_for_staff_does_not_expire(client, runner, make_user, key_for):
    member, clinician, admin = (key_for(make_user(role)) for role in ("member", "clinician", "admin"))
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        pid = ready_patient(client, member, admin)
        enc = ask(client).get_json()
        invoice = checkout(client, member, enc["encounter_token"], pid).get_json()["invoice"]
        clock.shift(timedelta(hours=80))  # staff take longer than the 72 h checkout window
        assert "expired 0 encounter(s)" in runner.invoke(args=["expire-encounters"]).output
        r = client.get(f"/api/v1/encounters/{enc['encounter_id']}", headers=member)
        assert r.get_json()["status"] == "awaiting_checkout"
        client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid", headers=admin)
        r = client.get(f"/api/v1/encounters/{enc['encounter_id']}", headers=member)
        assert r.get_json()["status"] == "submitted"
