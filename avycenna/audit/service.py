"""Recording audit events. There is deliberately no way to change or delete one."""
import json

from flask import g, has_request_context

from avycenna.audit.models import AuditEvent
from avycenna.db import database
from avycenna.http import ip_hash


def _actor_fields():
    if not has_request_context() or not hasattr(g, "actor"):
        return {"actor_type": "system"}
    actor = g.actor
    fields = {"actor_type": actor.kind, "ip_hash": ip_hash(), "request_id": g.get("request_id")}
    if actor.user is not None:
        fields["actor_user_id"] = actor.user.id
    if actor.api_key is not None:
        fields["actor_key_id"] = actor.api_key.id
    if actor.oauth_token is not None:  # an assistant acting for the person: the client's id
        fields["actor_key_id"] = actor.oauth_token.connection.client_id
    encounter_id = g.get("audit_encounter_id")
    if encounter_id:
        fields["actor_encounter_id"] = encounter_id
    return fields


def grant_details():
    """Audit details naming the grant the current access went through, if any (the access
    rule keeps it in `g.access_grant` when it lets a clinician in through one)."""
    grant = g.get("access_grant")
    return {"grant_id": grant.id} if grant is not None else {}


def record(action, *, patient_id=None, target_type=None, target_id=None, outcome="success",
           user_id=None, **details):
    """Append one event for the current request's actor.

    `user_id` names the account acted on when the actor is anonymous (a failed
    login). `details` must never hold a secret, a code or clinical text.
    """
    return _create(_actor_fields(), action, patient_id, target_type, target_id, outcome, user_id, details)


def _row(actor, action, patient_id, target_type, target_id, outcome, user_id, details):
    fields = dict(actor)
    if user_id and not fields.get("actor_user_id"):
        fields["actor_user_id"] = user_id
    return dict(fields, action=action, outcome=outcome, patient_id=str(patient_id) if patient_id else None,
                target_type=target_type, target_id=str(target_id) if target_id else None,
                details=json.dumps(details, default=str, sort_keys=True))


def _create(*event):
    return AuditEvent.create(**_row(*event))


def record_many(action, events, outcome="success"):
    """Append one event per item of `events` (dicts of `record`'s keyword arguments: patient_id,
    target_type, target_id, details) for the current request's actor, in one INSERT: a list
    audits every row it shows without a round trip per row. All are written or none."""
    if not events:
        return
    actor = _actor_fields()
    rows = [_row(actor, action, event.get("patient_id"), event.get("target_type"), event.get("target_id"),
                 outcome, None, event.get("details", {})) for event in events]
    with database.atomic():
        AuditEvent.insert_many(rows).execute()


def record_refusal(action, *, patient_id=None, target_type=None, target_id=None, **details):
    """Record a refused attempt (outcome "denied"), even when the refusal rolls back the
    transaction it happened in: inside one, the event waits in `g` until `write_deferred`
    writes it after the response is made; outside one it is written at once."""
    event = (action, patient_id, target_type, target_id, "denied", None, details)
    if has_request_context() and database.in_transaction():
        g.setdefault("deferred_audit", []).append((_actor_fields(), *event))
    else:
        _create(_actor_fields(), *event)


def write_deferred(response, request, g):
    """After each request: write the refusals `record_refusal` kept back."""
    for event in g.pop("deferred_audit", []):
        _create(*event)
    return response
