"""The agent front door: queries open or continue encounters; the agent's chat access."""
import json
import secrets
from datetime import datetime

from flask import g

from avycenna.encounters import idempotency
from avycenna.actor import AUTH_HEADER
from avycenna.clock import isoformat, utcnow
from avycenna.db import transaction
from avycenna.encounters import lifecycle
from avycenna.encounters import service as encounters
from avycenna.encounters.submission import pending_reasons, try_submit
from avycenna.encounters.tokens import encounter_token_for, new_session_token
from avycenna.errors import fail, not_found
from avycenna.http import public_url
from avycenna.patients.service import owned_patient

TOKEN_FIELDS = ("session_token", "encounter_token", "checkout_url")


def checkout_url(encounter_token):
    """`{PUBLIC_BASE_URL or this host}/checkout/{encounter_token}`."""
    return public_url("/checkout/" + encounter_token)


def _checkout_url_while_open(status, encounter_token):
    return checkout_url(encounter_token) if status == "awaiting_checkout" and encounter_token else None


def _continue(user, session_token):
    encounter = encounters.find_by_session_token(session_token)
    if encounter is None or (user is not None and encounter.account_id not in (None, user.id)):
        not_found("Session not found.")
    if user is not None and encounter.account_id is None \
            and not lifecycle.claim(encounter, user.id, account=user.id):
        not_found("Session not found.")  # another account claimed it first
    return encounter


def _bind_patient(user, encounter, patient_id):
    """Bind the caller's patient; True when `patient_id` is not the caller's (never says why)."""
    if patient_id is None or encounter.status != "awaiting_checkout":
        return False
    patient = owned_patient(user, patient_id)
    if patient is None:
        return True
    if not lifecycle.claim(encounter, user.id, patient=patient):
        fail(409, "This encounter was changed by another request; try again.")
    return False


def query(user, text, patient_id=None, session_token=None, seed=None):
    """Open (or continue, with `session_token`) an encounter and submit it if nothing is pending.

    An anonymous caller cannot own a patient: its `patient_id` is reported as
    `patient_not_owned`, exactly as a patient of another account would be.
    Call inside a write transaction; returns the response body.
    """
    if session_token:
        encounter = _continue(user, session_token)
        encounters.add_query(encounter, text, "agent")
    else:
        session_token = new_session_token(seed)
        encounter = encounters.create_encounter(user.id if user else None, session_token, text)
    not_owned = _bind_patient(user, encounter, patient_id)
    reasons = try_submit(encounter, patient_not_owned=not_owned)
    encounters.audit("encounter.query", encounter, source="agent", pending=reasons)
    return response(encounter, session_token, reasons)


def response(encounter, session_token, reasons):
    token = encounter_token_for(session_token)
    return {
        "encounter_id": encounter.id,
        "status": encounter.status,
        "session_token": session_token,
        "encounter_token": token,
        "encounter_token_expires_at": encounter.token_expires_at,
        "checkout_url": _checkout_url_while_open(encounter.status, token),
        "auto_submit": {"submitted": encounter.status not in ("awaiting_checkout", "expired", "cancelled"),
                        "pending_reasons": reasons},
    }


def _with_tokens(data, session_token):
    token = encounter_token_for(session_token)
    return dict(data, session_token=session_token, encounter_token=token,
                checkout_url=_checkout_url_while_open(data["status"], token))


def _replay(first, key, body):
    data = json.loads(first.response)
    data["encounter_token_expires_at"] = datetime.fromisoformat(data["encounter_token_expires_at"].rstrip("Z"))
    session_token = body.get("session_token") or new_session_token(first.salt + key)
    return _with_tokens(data, session_token)


@idempotency.replay_twin
@transaction
def handle_query(user, body):
    """`query()` with Idempotency-Key replay: a retry returns the first response.

    The stored copy holds no token; the replay re-derives them from the key.
    """
    key = idempotency.header_key()
    salt = secrets.token_hex(16)
    first = idempotency.find(key) if key else None
    if first is not None:
        return _replay(first, key, body)
    result = query(user, body["query"], body.get("patient_id"), body.get("session_token"),
                   seed=salt + key if key else None)
    if key:
        stored = {name: value for name, value in result.items() if name not in TOKEN_FIELDS}
        stored["encounter_token_expires_at"] = isoformat(result["encounter_token_expires_at"])
        idempotency.save(key, salt, 200, stored)
    return result


# Agent chat: the encounter token, or the owner's key or JWT --------------------------------

def agent_encounter(encounter_id):
    """The encounter the caller may drive as its agent; 401/404 never reveal anything."""
    actor = g.actor
    if actor.kind == "encounter":
        encounter = encounters.find_by_encounter_token(actor.encounter_token)
        if encounter is None:
            fail(401, "Invalid encounter token.", AUTH_HEADER)
        if utcnow() >= encounter.token_expires_at:
            fail(401, "Encounter token expired.", AUTH_HEADER)
        if encounter.id != encounter_id:
            not_found("Encounter not found.")
        g.audit_encounter_id = encounter.id
        return encounter
    if actor.is_user:
        return encounters.owned_encounter(actor.user, encounter_id)
    fail(401, "Authentication required: the encounter token or the owner's API key.", AUTH_HEADER)


def read_for_agent(encounter_id):
    encounter = agent_encounter(encounter_id)
    encounters.audit("encounter.read", encounter)
    token = g.actor.encounter_token if g.actor.kind == "encounter" else None
    encounter.checkout_url = _checkout_url_while_open(encounter.status, token)
    waiting = encounter.status == "awaiting_checkout"
    encounter.pending_reasons = pending_reasons(encounter)[0] if waiting else []
    encounter.checked_out = encounter.checked_out_at is not None
    return encounter

