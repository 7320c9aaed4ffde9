"""The whole loop, twice: an anonymous agent with programmatic checkout and a one-off
invoice, and a subscriber's one-call submission with an API key. Both times the
clinician's answer (and question) reach the agent through the encounter token."""
import pytest

from tests.agent_helpers import ask, bearer, ready_patient, subscribe


@pytest.fixture
def people(make_user, token_for, key_for):
    member, clinician, admin = make_user(), make_user(role="clinician"), make_user(role="admin")
    return {"member": token_for(member), "member_key": key_for(member),
            "clinician": token_for(clinician), "admin": token_for(admin)}


def clinician_answers_and_agent_reads(client, people, encounter_id, encounter_token):
    doc = people["clinician"]
    queue = client.get("/api/v1/encounters/queue", headers=doc).get_json()["data"]
    assert [e["id"] for e in queue] == [encounter_id]
    assert queue[0]["latest_query"].startswith("I have had a dry cough")
    assert client.post(f"/api/v1/encounters/{encounter_id}/take", headers=doc).get_json()["status"] == "in_review"
    assert client.get(f"/api/v1/encounters/{encounter_id}/patient", headers=doc).status_code == 200
    agent = bearer(encounter_token)
    question = client.post(f"/api/v1/encounters/{encounter_id}/messages",
                           json={"body": "Any weight loss?", "asks_agent": True}, headers=doc).get_json()
    polled = client.get(f"/api/v1/agent/encounters/{encounter_id}/messages", headers=agent).get_json()["data"]
    assert [(m["id"], m["asks_agent"]) for m in polled] == [(question["id"], True)]
    reply = client.post(f"/api/v1/agent/encounters/{encounter_id}/messages",
                        json={"body": "No weight loss.", "reply_to": question["id"]}, headers=agent)
    assert reply.status_code == 201 and reply.get_json()["author_role"] == "agent"
    answered = client.post(f"/api/v1/encounters/{encounter_id}/answer",
                           json={"body": "Likely post-viral cough; see the plan."}, headers=doc)
    assert answered.get_json()["status"] == "answered"
    newer = client.get(f"/api/v1/agent/encounters/{encounter_id}/messages?after={reply.get_json()['id']}",
                       headers=agent).get_json()["data"]
    assert [(m["author_role"], m["is_answer"], m["body"]) for m in newer] == [
        ("clinician", True, "Likely post-viral cough; see the plan.")]
    assert client.get(f"/api/v1/agent/encounters/{encounter_id}", headers=agent).get_json()["status"] == "answered"
    closed = client.post(f"/api/v1/encounters/{encounter_id}/close", json={"summary": "Post-viral cough."},
                         headers=doc)
    assert closed.get_json()["status"] == "closed"
    status = client.get(f"/api/v1/agent/encounters/{encounter_id}", headers=agent).get_json()
    assert status["status"] == "closed" and status["summary"] == "Post-viral cough."
    member_view = client.get(f"/api/v1/encounters/{encounter_id}/messages", headers=people["member"]).get_json()
    assert len(member_view["data"]) == 3


def test_anonymous_agent_then_programmatic_checkout_with_one_off_invoice(client, people):
    first = ask(client).get_json()
    assert first["status"] == "awaiting_checkout"
    assert first["auto_submit"] == {"submitted": False,
                                    "pending_reasons": ["patient_required", "subscription_required"]}
    assert first["checkout_url"] == "http://127.0.0.1:8000/checkout/" + first["encounter_token"]
    pid = ready_patient(client, people["member"], people["admin"])
    r = client.post("/api/v1/checkout", json={"encounter_token": first["encounter_token"], "patient_id": pid},
                    headers=people["member"])
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert result["pending_reasons"] == ["subscription_required"] and result["submitted"] is False
    invoice = result["invoice"]
    assert invoice["kind"] == "encounter" and invoice["amount"] == 4900 and invoice["status"] == "open"
    assert client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid",
                       headers=people["admin"]).get_json()["status"] == "paid"
    mine = client.get(f"/api/v1/encounters/{first['encounter_id']}", headers=people["member"]).get_json()
    assert mine["status"] == "submitted" and mine["payment"] == "invoice" and mine["patient_id"] == pid
    clinician_answers_and_agent_reads(client, people, first["encounter_id"], first["encounter_token"])


def test_subscriber_one_call_submission_with_an_api_key(client, people):
    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    r = ask(client, people["member_key"], patient_id=pid)
    body = r.get_json()
    assert body["status"] == "submitted" and body["checkout_url"] is None
    assert body["auto_submit"] == {"submitted": True, "pending_reasons": []}
    sub = client.get("/api/v1/subscription", headers=people["member"]).get_json()
    assert sub["status"] == "active" and sub["encounters_used"] == 1
    clinician_answers_and_agent_reads(client, people, body["encounter_id"], body["encounter_token"])
