"""Deliveries to a real receiver on 127.0.0.1: signed (verified with `standardwebhooks`), only to
the right account, retried with the same `webhook-id`, refused to private targets at send time."""
import json
import time
from datetime import datetime

import pytest

from avycenna.db import database
from avycenna.webhooks import delivery, events
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint
from avycenna.webhooks.secrets import new_secret
from tests.agent_helpers import QUERY, ask, ready_patient, subscribe
from tests.test_jobs import wait_for
from tests.webhook_receiver import Receiver

HOOKS = "/api/v1/webhook-endpoints"


@pytest.fixture
def receiver(app):
    app.config.update(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], WEBHOOK_RETRY_SCHEDULE=[1, 1])
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def people(make_user, token_for, key_for):
    member, other, clinician, admin = (make_user(), make_user(), make_user(role="clinician"),
                                       make_user(role="admin"))
    return {"member": token_for(member), "member_key": key_for(member), "member_email": member.email,
            "other": token_for(other), "clinician": token_for(clinician), "admin": token_for(admin)}


def register(client, headers, url, **body):
    r = client.post(HOOKS, json={"url": url, **body}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def deliveries(client, headers, endpoint_id):
    return client.get(f"{HOOKS}/{endpoint_id}/deliveries", headers=headers).get_json()["data"]


def send_due(app):
    """Run the delivery function directly (as the worker would) on every due delivery."""
    with app.app_context(), database.obj.connection_context():
        return [delivery.deliver(d) for d in delivery.due()]


def when(timestamp):
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_every_event_of_an_encounter_and_a_grant_reaches_the_owner_signed(app, client, people, receiver,
                                                                         job_worker):
    mine = register(client, people["member"], receiver.url("/mine"))
    theirs = register(client, people["other"], receiver.url("/theirs"))
    doc_hook = register(client, people["clinician"], receiver.url("/doc"),
                        events=["grant.requested", "grant.accepted"])

    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    enc = ask(client, people["member_key"], patient_id=pid).get_json()
    eid, doc = enc["encounter_id"], people["clinician"]
    assert client.post(f"/api/v1/encounters/{eid}/take", headers=doc).status_code == 200
    question = client.post(f"/api/v1/encounters/{eid}/messages",
                           json={"body": "Any weight loss?", "asks_agent": True}, headers=doc).get_json()
    assert client.post(f"/api/v1/encounters/{eid}/answer", json={"body": "Rest and fluids."},
                       headers=doc).status_code == 200
    assert client.post(f"/api/v1/encounters/{eid}/close", json={"summary": "Viral cough."},
                       headers=doc).status_code == 200
    grant = client.post("/api/v1/grants", json={"email": people["member_email"], "scopes": ["wearables"]},
                        headers=doc).get_json()
    assert client.post(f"/api/v1/grants/{grant['id']}/accept", json={"patient_id": pid},
                       headers=people["member"]).status_code == 200
    r = client.post(f"/api/v1/patients/{pid}/wearables", headers=people["member"], json={
        "source": "apple_watch",
        "samples": [{"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 72, "unit": "count/min"},
                    {"type": "heart_rate", "start": "2026-11-20T08:05:00Z", "value": 75, "unit": "count/min"},
                    {"type": "steps", "start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:10:00Z",
                     "value": 840, "unit": "count"}]})
    assert r.status_code in (200, 201), r.get_json()
    assert client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=doc).status_code == 200

    assert receiver.wait_for(10), [(p, b) for p, _, b in receiver.requests]
    time.sleep(0.5)  # nothing else arrives
    got = receiver.verified(mine["secret"], "/mine")  # raises unless every signature verifies
    by_type = {payload["type"]: payload["data"] for _, payload in got}
    assert sorted(by_type) == sorted(["encounter.submitted", "encounter.message_created", "encounter.answered",
                                      "encounter.closed", "grant.requested", "grant.accepted", "grant.revoked",
                                      "wearables.ingested"])
    assert len(got) == 8
    assert by_type["encounter.submitted"] == {"encounter_id": eid, "status": "submitted", "patient_id": pid}
    assert by_type["encounter.message_created"] == {"encounter_id": eid, "message_id": question["id"],
                                                    "status": "in_review", "asks_agent": True}
    assert by_type["grant.accepted"]["patient_id"] == pid and by_type["grant.revoked"]["status"] == "revoked"
    source_id = by_type["wearables.ingested"]["source_id"]
    assert source_id.startswith("wsrc_")
    assert by_type["wearables.ingested"] == {
        "patient_id": pid, "source_id": source_id, "inserted": 3, "duplicates": 0,
        "counts": {"heart_rate": 2, "steps": 1}, "start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:10:00Z"}
    # Deliveries run side by side, so they may arrive in either order; each says when it happened.
    doc_events = sorted(receiver.verified(doc_hook["secret"], "/doc"), key=lambda got: when(got[1]["timestamp"]))
    assert [p["type"] for _, p in doc_events] == ["grant.requested", "grant.accepted"]
    # Another account's endpoint saw nothing, and nothing clinical or identifying was sent.
    assert [p for p, _, _ in receiver.requests if p == "/theirs"] == []
    assert deliveries(client, people["other"], theirs["id"]) == []
    everything = " ".join(body for _, _, body in receiver.requests)
    for secret_text in (QUERY[:30], "Any weight loss", "Rest and fluids", "Viral cough", "Pat Example",
                        people["member_email"], "1980-01-02"):
        assert secret_text not in everything
    log = deliveries(client, people["member"], mine["id"])
    assert len(log) == 8 and {d["status"] for d in log} == {"delivered"}
    assert {d["response_status"] for d in log} == {200} and {d["attempts"] for d in log} == {1}


def test_a_500_is_retried_with_the_same_webhook_id(app, client, people, receiver, job_worker):
    hook = register(client, people["member"], receiver.url())
    receiver.responses.append(500)
    sent = client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"]).get_json()
    assert receiver.wait_for(2), "no retry after the 500"
    (h1, p1), (h2, p2) = receiver.verified(hook["secret"])
    assert h1["webhook-id"] == h2["webhook-id"] == sent["webhook_id"] and p1 == p2
    assert p1 == {"type": "webhook.test", "timestamp": p1["timestamp"], "data": {"endpoint_id": hook["id"]}}

    def logged():
        return deliveries(client, people["member"], hook["id"])[0]
    assert wait_for(lambda: logged()["status"] == "delivered")
    assert logged()["attempts"] == 2 and logged()["response_status"] == 200 and logged()["last_error"] is None


def test_used_up_retries_fail_the_delivery_and_mark_the_endpoint_failing_until_a_success(
        app, client, people, receiver):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = [0]  # two attempts, the second due at once
    hook = register(client, people["member"], receiver.url())
    receiver.responses.extend([503, 503])
    sent = client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"]).get_json()
    assert send_due(app) == [0]  # failed; retry due in 0 s
    assert send_due(app) == [None]  # failed again: no more retries
    failed = deliveries(client, people["member"], hook["id"])[0]
    assert (failed["status"], failed["attempts"], failed["response_status"]) == ("failed", 2, 503)
    assert failed["next_attempt_at"] is None
    assert client.get(f"{HOOKS}/{hook['id']}", headers=people["member"]).get_json()["status"] == "failing"

    r = client.post(f"{HOOKS}/{hook['id']}/deliveries/{sent['id']}/retry", headers=people["member"])
    assert r.status_code == 202 and r.get_json()["status"] == "pending"
    send_due(app)
    replayed = deliveries(client, people["member"], hook["id"])[0]
    assert (replayed["status"], replayed["attempts"], replayed["response_status"]) == ("delivered", 3, 200)
    assert len({h["webhook-id"] for h, _ in receiver.verified(hook["secret"])}) == 1
    assert client.get(f"{HOOKS}/{hook['id']}", headers=people["member"]).get_json()["status"] == "active"


def test_a_delivery_is_sent_once_even_when_two_senders_race(app, client, people, receiver):
    hook = register(client, people["member"], receiver.url())
    sent = client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"]).get_json()
    with app.app_context(), database.obj.connection_context():
        claimed = delivery.claim(sent["id"])
        assert claimed is not None and delivery.claim(sent["id"]) is None  # leased by the first
        assert delivery.deliver(sent["id"]) is None and receiver.requests == []
    r = client.post(f"{HOOKS}/{hook['id']}/deliveries/{sent['id']}/retry", headers=people["member"])
    assert r.status_code == 409  # an attempt is in flight


def test_redirects_are_not_followed(app, client, people, receiver):
    hook = register(client, people["member"], receiver.url())
    receiver.responses.append((302, {"Location": receiver.url("/elsewhere")}))
    client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"])
    send_due(app)
    assert [p for p, _, _ in receiver.requests] == ["/hook"]
    logged = deliveries(client, people["member"], hook["id"])[0]
    assert logged["status"] == "pending" and logged["response_status"] == 302
    assert logged["last_error"] == "redirect not followed" and logged["next_attempt_at"]


def test_a_slow_receiver_times_out(app, client, people, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.3
    receiver.delay = 1
    hook = register(client, people["member"], receiver.url())
    client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"])
    send_due(app)
    logged = deliveries(client, people["member"], hook["id"])[0]
    assert logged["status"] == "pending" and logged["response_status"] is None
    assert logged["last_error"].startswith("network error")


def test_a_target_is_checked_again_at_delivery_time(app, client, people, receiver):
    hook = register(client, people["member"], receiver.url())  # allowed when registered
    app.config["WEBHOOK_ALLOWED_HOSTS"] = []  # the admin withdraws the allowance
    client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"])
    send_due(app)
    assert receiver.requests == []
    logged = deliveries(client, people["member"], hook["id"])[0]
    assert logged["status"] == "pending" and logged["last_error"].startswith("refused:")


def test_events_roll_back_with_the_change_that_failed(app, people, make_user):
    """The outbox row is written in the transaction of the change: no event for a change undone."""
    from avycenna.db import write_transaction

    with app.app_context(), database.obj.connection_context():
        user = make_user()
        WebhookEndpoint.create(user=user, url="https://93.184.215.14/", secret=new_secret())
        with pytest.raises(RuntimeError), write_transaction():
            events.emit("encounter.closed", [user.id], encounter_id="enc_x", status="closed")
            raise RuntimeError("the change failed")
        assert WebhookDelivery.select().count() == 0
        events.emit("encounter.closed", [user.id], encounter_id="enc_x", status="closed")
        assert json.loads(WebhookDelivery.get().payload)["data"] == {"encounter_id": "enc_x", "status": "closed"}


def test_the_sweep_sends_deliveries_nobody_enqueued(app, client, people, receiver, job_worker):
    """A delivery written outside a request (or left by a crash before enqueueing) is swept up."""
    from avycenna.webhooks import tasks

    hook = register(client, people["member"], receiver.url())
    with app.app_context(), database.obj.connection_context():
        endpoint = WebhookEndpoint.get_by_id(hook["id"])
        events.emit("encounter.closed", [endpoint.user_id], encounter_id="enc_x", status="closed")
    assert receiver.requests == []
    tasks.sweep()  # what the minutely schedule (and worker start-up) enqueues
    assert receiver.wait_for(1)
    [(_, payload)] = receiver.verified(hook["secret"])
    assert payload["type"] == "encounter.closed"


def test_https_certificates_are_verified_against_the_configured_cas(app, client, people, tmp_path):
    """Untrusted certificate: nothing is sent. The clinic's CA in WEBHOOK_CA_BUNDLE: delivered."""
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    app.config.update(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], WEBHOOK_RETRY_SCHEDULE=[0])
    receiver = Receiver(tls=(str(cert), str(key))).start()
    try:
        hook = register(client, people["member"], receiver.url())
        client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"])
        send_due(app)
        assert receiver.requests == []
        logged = deliveries(client, people["member"], hook["id"])[0]
        assert logged["status"] == "pending" and logged["last_error"] == "network error: SSLError"

        app.config["WEBHOOK_CA_BUNDLE"] = str(cert)
        send_due(app)
        [(_, payload)] = receiver.verified(hook["secret"])
        assert payload["type"] == "webhook.test"
        assert deliveries(client, people["member"], hook["id"])[0]["status"] == "delivered"
    finally:
        receiver.stop()


def test_a_huge_answer_is_not_read_to_the_end(app, client, people, receiver):
    receiver.body_size = 64 * 1024 * 1024
    hook = register(client, people["member"], receiver.url())
    client.post(f"{HOOKS}/{hook['id']}/test", headers=people["member"])
    send_due(app)
    assert deliveries(client, people["member"], hook["id"])[0]["status"] == "delivered"
    assert wait_for(lambda: receiver.unsent) and receiver.unsent[0] > 32 * 1024 * 1024


def test_the_sweep_pages_through_a_backlog_longer_than_a_page(app, make_user):
    """After a queue outage more deliveries can be due than one page holds: every one is
    listed once, oldest first, up to the sweep's bound."""
    with app.app_context(), database.obj.connection_context():
        endpoint = WebhookEndpoint.create(user=make_user(), url="https://hooks.example/x", events="",
                                          secret=new_secret())
        ids = [row_id for _ in range(7) for row_id in events.queue([endpoint], "grant.requested", {"grant_id": "g"})]
        pages = list(delivery.due_pages(page=3))
        assert [len(page) for page in pages] == [3, 3, 1]
        assert sorted(i for page in pages for i in page) == sorted(ids)
        assert [len(page) for page in delivery.due_pages(page=3, most=5)] == [3, 2]
        assert delivery.due(limit=4) == [i for page in pages for i in page][:4]
