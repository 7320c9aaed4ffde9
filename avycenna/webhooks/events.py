"""Events and `emit()`: the outbox write a service function makes where a state changes.

`emit()` runs inside the caller's transaction: the delivery rows commit or roll
back with the change they report, so an event is never lost nor sent for a change
that did not happen. After the request, the new deliveries are handed to the job
queue; the periodic sweep picks up any that were not (a crash in between, a CLI).

Events name, they never describe: payloads carry ids, types, statuses, counts and
times only — never clinical text, anything that identifies a patient, nor any text
a person or a device wrote (a wearable source travels as its `source_id`) — so a
leaked webhook reveals nothing; the receiver fetches details with its own
credentials, through the access rule. `tests/test_webhook_payloads.py` raises
every event in EVENTS and scans what is delivered for the fixtures' text.
"""
import json
from collections import Counter
from operator import itemgetter

from flask import g, has_app_context

from avycenna.clock import isoformat, ms_to_iso, utcnow
from avycenna.ids import new_id
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint

EVENTS = {
    "encounter.submitted": "An encounter of yours was submitted to the clinic's queue.",
    "encounter.message_created": "A clinician wrote in your encounter (`asks_agent`: a question "
                                 "for the agent to answer).",
    "encounter.answered": "A clinician answered your encounter.",
    "encounter.closed": "A clinician closed your encounter.",
    "grant.requested": "A clinician asked for access (to the holder and to the clinician).",
    "grant.accepted": "A grant was accepted for a patient (to both sides).",
    "grant.declined": "A grant request was declined (to both sides).",
    "grant.revoked": "A grant was revoked by either side (to both sides).",
    "wearables.ingested": "New wearable samples were stored for one of your patients "
                          "(counts and time range, never the samples; the device as `source_id`, "
                          "its name at `GET /api/v1/patients/{id}/wearables/sources/{source_id}`).",
}
TEST_EVENT = "webhook.test"


def payload(event_type, data, now=None):
    """The Standard Webhooks body: `{"type", "timestamp", "data"}` as compact JSON."""
    body = {"type": event_type, "timestamp": isoformat(now or utcnow()), "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


def queue(endpoints, event_type, data):
    """Write one pending delivery per endpoint (one `webhook-id` for the event); returns their ids."""
    if not endpoints:
        return []
    now = utcnow()
    message_id, body = new_id("whm"), payload(event_type, data, now)
    rows = [{"id": new_id("whd"), "endpoint": e.id, "message_id": message_id, "event_type": event_type,
             "payload": body, "next_attempt_at": now, "created_at": now} for e in endpoints]
    WebhookDelivery.insert_many(rows).execute()
    ids = [row["id"] for row in rows]
    remember(ids)
    return ids


def remember(delivery_ids):
    """Note deliveries to hand to the job queue once this request is done."""
    if has_app_context():
        g.setdefault("webhook_deliveries", []).extend(delivery_ids)


def emit(event_type, recipients, **data):
    """Queue `event_type` for the endpoints of `recipients` (user ids) that subscribe to it.

    Call inside the transaction of the change. `data`: ids, statuses and counts only.
    """
    return queue(subscribers(event_type, recipients), event_type, data)


def subscribers(event_type, recipients):
    """The endpoints of `recipients` (user ids) that subscribe to `event_type`."""
    assert event_type in EVENTS, event_type
    user_ids = {u for u in recipients if u}
    if not user_ids:
        return []
    return [e for e in WebhookEndpoint.select().where(WebhookEndpoint.user.in_(user_ids))
            if not e.event_list or event_type in e.event_list]


def queued_in(g):
    """Delivery ids written during the request (or app context) whose `g` this is, cleared."""
    return g.pop("webhook_deliveries", [])


# The data of each kind of event ------------------------------------------------------------

ENCOUNTER_EVENTS = {"submitted": "encounter.submitted", "answered": "encounter.answered",
                    "closed": "encounter.closed"}


def emit_encounter_status(encounter):
    """After a lifecycle transition: tell the owner when it is one of ENCOUNTER_EVENTS."""
    event_type = ENCOUNTER_EVENTS.get(encounter.status)
    if event_type:
        emit(event_type, [encounter.account_id], encounter_id=encounter.id, status=encounter.status,
             patient_id=encounter.patient_id)


def grant_parties(grant):
    """The clinician who asked and the holder (once known, else the account with that e-mail)."""
    from avycenna.auth.models import User

    if grant.holder_id:
        return [grant.clinician_id, grant.holder_id]
    holder = User.select(User.id).where(User.email == grant.email).first()
    return [grant.clinician_id, holder and holder.id]


def emit_grant(event_type, grant):
    emit(event_type, grant_parties(grant), grant_id=grant.id, status=grant.status,
         scopes=grant.scope_list, patient_id=grant.patient_id)


def emit_ingested(patient, source_id, new_rows, duplicates):
    """After a wearable batch stored new samples: counts per type and their time range
    (counted only when an endpoint subscribes: a batch has up to 10,000 rows)."""
    endpoints = subscribers("wearables.ingested", [patient.account_id]) if new_rows else []
    if not endpoints:
        return []
    counts = Counter(map(itemgetter(0), new_rows))
    return queue(endpoints, "wearables.ingested", dict(
        patient_id=patient.id, source_id=source_id, inserted=len(new_rows), duplicates=duplicates,
        counts=dict(sorted(counts.items())), start=ms_to_iso(min(map(itemgetter(1), new_rows))),
        end=ms_to_iso(max(row[2] or row[1] for row in new_rows))))
