"""Recording audit events. There is deliberately no way to change or delete one."""
import json

from flask import g, has_request_context

from avycenna.audit.models import AuditEvent


def _actor_fields():
    if not has_request_context() or not hasattr(g, "actor"):
        return {"actor_type": "system"}
    from avycenna.auth.actor import ip_hash

    actor = g.actor
    fields = {"actor_type": actor.kind, "ip_hash": ip_hash(), "request_id": g.get("request_id")}
    if actor.user is not None:
        fields["actor_user_id"] = actor.user.id
    if actor.api_key is not None:
        fields["actor_key_id"] = actor.api_key.id
    encounter_id = g.get("audit_encounter_id")
    if encounter_id:
        fields["actor_encounter_id"] = encounter_id
    return fields


def record(action, *, patient_id=None, target_type=None, target_id=None, outcome="success",
           user_id=None, **details):
    """Append one event for the current request's actor.

    `user_id` names the account acted on when the actor is anonymous (a failed
    login). `details` must never hold a secret, a code or clinical text.
    """
    fields = _actor_fields()
    if user_id and not fields.get("actor_user_id"):
        fields["actor_user_id"] = user_id
    return AuditEvent.create(action=action, outcome=outcome,
                             patient_id=str(patient_id) if patient_id else None,
                             target_type=target_type, target_id=str(target_id) if target_id else None,
                             details=json.dumps(details, default=str, sort_keys=True), **fields)
