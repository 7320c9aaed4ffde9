"""Encounters for accounts and clinicians: who may see what, queries, messages, answers."""
import hmac
from datetime import timedelta

from flask import current_app
from peewee import Tuple

from avycenna.audit.service import record, record_many
from avycenna.encounters.coverage import void_one_off
from avycenna.clock import utcnow
from avycenna.db import locked, write_transaction
from avycenna.encounters import lifecycle
from avycenna.encounters.models import Encounter, EncounterQuery, Message
from avycenna.encounters.tokens import digest, encounter_token_for
from avycenna.errors import not_found, validation_error
from avycenna.pagination import paginate
from avycenna.webhooks.events import emit


def audit(action, encounter, **details):
    record(action, patient_id=encounter.patient_id, target_type="encounter", target_id=encounter.id,
           **details)


# Creating ------------------------------------------------------------------------------------

def create_encounter(account_id, session_token, text):
    """A new encounter awaiting checkout with its first query."""
    now = utcnow()
    encounter = Encounter.create(
        account=account_id, session_token_hash=digest(session_token),
        encounter_token_hash=digest(encounter_token_for(session_token)), created_at=now,
        updated_at=now, token_expires_at=now + timedelta(seconds=current_app.config["ENCOUNTER_TOKEN_TTL"]))
    add_query(encounter, text, "agent")
    return encounter


def add_query(encounter, text, source):
    """Record a query; a follow-up to an answered encounter sends it back to review."""
    lifecycle.require(encounter, lifecycle.QUERYABLE, "add a query")
    EncounterQuery.create(encounter=encounter, text=text, source=source)
    if encounter.status == "answered":
        lifecycle.transition(encounter, "in_review")
    else:
        Encounter.update(updated_at=utcnow()).where(Encounter.id == encounter.id).execute()


def latest_query(encounter):
    if hasattr(encounter, "latest_query_text"):  # loaded with the page (with_latest_queries)
        return encounter.latest_query_text
    row = (EncounterQuery.select().where(EncounterQuery.encounter == encounter.id)
           .order_by(EncounterQuery.created_at.desc(), EncounterQuery.id.desc()).first())
    return row.text if row else None


def queries(encounter):
    return list(EncounterQuery.select().where(EncounterQuery.encounter == encounter.id)
                .order_by(EncounterQuery.created_at, EncounterQuery.id))


# Finding (a resource the caller may not see is a 404) ----------------------------------------

def _load(encounter_id, lock=False):
    """The encounter (expired lazily when due); `lock` reads it under a row lock, for a
    change that must not land after a concurrent status change (a message on a closed one)."""
    query = Encounter.select().where(Encounter.id == encounter_id)
    encounter = (locked(query) if lock else query).first()
    if encounter is not None:
        lifecycle.expire_if_due(encounter)
    return encounter


def can_see(user, encounter):
    """Owner; the clinician who took it; any clinician while it waits in the queue; admins;
    a clinician holding an active `encounters` grant on the encounter's patient."""
    from avycenna.grants.service import active_grant

    if encounter.account_id == user.id or user.role == "admin":
        return True
    if user.role != "clinician":
        return False
    return (encounter.clinician_id == user.id or encounter.status == "submitted"
            or (encounter.patient_id is not None
                and active_grant(user, encounter.patient_id, "encounters") is not None))


def visible_encounter(user, encounter_id):
    encounter = _load(encounter_id)
    if encounter is None or not can_see(user, encounter):
        not_found("Encounter not found.")
    return encounter


def owned_encounter(user, encounter_id, lock=False):
    encounter = _load(encounter_id, lock)
    if encounter is None or encounter.account_id != user.id:
        not_found("Encounter not found.")
    return encounter


def acts_as_clinician(user, encounter):
    """The clinician who took `encounter` — while their role is still clinician — or an admin.

    The role is read from the account on every request, so a clinician made a member loses
    the encounters they took (and their messages) at once."""
    if encounter.clinician_id is None:
        return False
    return user.role == "admin" or (user.role == "clinician" and encounter.clinician_id == user.id)


def assigned_encounter(user, encounter_id):
    """An encounter this clinician took (admins: any that was taken)."""
    encounter = _load(encounter_id)
    if encounter is None or not acts_as_clinician(user, encounter):
        not_found("Encounter not found.")
    return encounter


def read_encounter(user, encounter_id):
    encounter = visible_encounter(user, encounter_id)
    audit("encounter.read", encounter)
    return encounter


def list_own(user, limit, cursor, status=None, patient_id=None):
    query = Encounter.select().where(Encounter.account == user.id)
    if status:
        query = query.where(Encounter.status == status)
    if patient_id:
        query = query.where(Encounter.patient == patient_id)
    page = paginate(query, (Encounter.created_at, Encounter.id), limit, cursor, descending=True)
    with_latest_queries(page["data"])
    record_many("encounter.list", [{"patient_id": e.patient_id, "target_type": "encounter", "target_id": e.id}
                                   for e in page["data"]])
    return page


def with_latest_queries(encounters):
    """Load every listed encounter's latest query in one query (what `latest_query` returns)."""
    if not encounters:
        return encounters
    latest = {}
    rows = (EncounterQuery.select(EncounterQuery.encounter, EncounterQuery.text)
            .where(EncounterQuery.encounter.in_([e.id for e in encounters]))
            .order_by(EncounterQuery.created_at.desc(), EncounterQuery.id.desc()).tuples())
    for encounter_id, text in rows:
        latest.setdefault(encounter_id, text)
    for encounter in encounters:
        encounter.latest_query_text = latest.get(encounter.id)
    return encounters


def queue(limit, cursor):
    """Submitted encounters, oldest first."""
    query = Encounter.select().where(Encounter.status == "submitted")
    page = paginate(query, (Encounter.submitted_at, Encounter.id), limit, cursor)
    for encounter in page["data"]:
        audit("encounter.queue", encounter)
    return page


def assigned(clinician, limit, cursor, status=None):
    """Encounters this clinician took (any status since), most recently taken first."""
    query = Encounter.select().where(Encounter.clinician == clinician.id)
    if status:
        query = query.where(Encounter.status == status)
    page = paginate(query, (Encounter.taken_at, Encounter.id), limit, cursor, descending=True)
    for encounter in page["data"]:
        audit("encounter.list", encounter)
    return page


def taken_by(clinician, statuses=("in_review", "answered")):
    """Encounters this clinician took that are still open, oldest taken first."""
    query = (Encounter.select().where((Encounter.clinician == clinician.id) & Encounter.status.in_(statuses))
             .order_by(Encounter.taken_at, Encounter.id))
    encounters = list(query)
    for encounter in encounters:
        audit("encounter.list", encounter)
    return encounters


# Changing ------------------------------------------------------------------------------------

def follow_up(user, encounter_id, text):
    """Add a follow-up query. With an Idempotency-Key a retry adds nothing and returns the
    encounter as it is now."""
    from avycenna.encounters import idempotency

    key = idempotency.header_key()
    with write_transaction():
        encounter = owned_encounter(user, encounter_id, lock=True)
        if key and idempotency.find(key):
            return encounter
        add_query(encounter, text, "follow_up")
        audit("encounter.query", encounter, source="follow_up")
        if key:
            idempotency.save(key, "", 201, {"encounter_id": encounter.id})
    return encounter


def take(clinician, encounter_id):
    """Assign a submitted encounter to this clinician; exactly one of racing clinicians wins."""
    with write_transaction():
        encounter = visible_encounter(clinician, encounter_id)
        lifecycle.transition(encounter, "in_review", clinician=clinician.id)
        audit("encounter.take", encounter)
    return encounter


def answer(clinician, encounter_id, body):
    with write_transaction():
        encounter = assigned_encounter(clinician, encounter_id)
        lifecycle.check(encounter, "answered")
        _create_message(encounter, "clinician", clinician, body, is_answer=True)
        lifecycle.transition(encounter, "answered")
        audit("encounter.answer", encounter)
    _tell_owner_answered(encounter)
    return encounter


def _tell_owner_answered(encounter):
    """Mail the account holder a link (never the clinical text) once an answer is in."""
    from avycenna.auth.models import User
    from avycenna.http import public_url
    from avycenna.mail import notify

    owner = User.get_or_none(User.id == encounter.account_id) if encounter.account_id else None
    if owner is not None and owner.is_active:
        notify(owner.email, "A clinician has answered your question",
               "A clinician at the clinic has answered a question you sent.\n\n"
               f"Read it after signing in: {public_url('/account/encounters/' + encounter.id)}\n")


def close(clinician, encounter_id, summary):
    with write_transaction():
        encounter = assigned_encounter(clinician, encounter_id)
        lifecycle.transition(encounter, "closed", summary=summary)
        audit("encounter.close", encounter)
    return encounter


def cancel(user, encounter_id):
    with write_transaction():
        encounter = owned_encounter(user, encounter_id)
        lifecycle.transition(encounter, "cancelled")
        void_one_off(encounter)
        audit("encounter.cancel", encounter)
    return encounter


def patient_of(clinician, encounter_id):
    encounter = assigned_encounter(clinician, encounter_id)
    if encounter.patient_id is None:
        not_found("Patient not found.")
    record("patient.read", patient_id=encounter.patient_id, target_type="patient",
           target_id=encounter.patient_id, encounter_id=encounter.id)
    return encounter.patient


# Messages ------------------------------------------------------------------------------------

def _create_message(encounter, role, user, body, asks_agent=False, is_answer=False, reply_to=None):
    lifecycle.require(encounter, lifecycle.MESSAGING, "post messages")
    message = Message.create(encounter=encounter, author_role=role, author=user and user.id, body=body,
                             asks_agent=asks_agent, is_answer=is_answer, reply_to=reply_to)
    audit("message.create", encounter, message_id=message.id, role=role)
    if role == "clinician" and not is_answer:
        emit("encounter.message_created", [encounter.account_id], encounter_id=encounter.id,
             message_id=message.id, status=encounter.status, asks_agent=asks_agent)
    return message


def messaging_role(user, encounter):
    """'member' for the owner, 'clinician' for the clinician who took it (or an admin)."""
    if encounter.account_id == user.id:
        return "member"
    return "clinician" if acts_as_clinician(user, encounter) else None


def member_or_clinician_encounter(user, encounter_id, lock=False):
    encounter = _load(encounter_id, lock)
    if encounter is None or messaging_role(user, encounter) is None:
        not_found("Encounter not found.")
    return encounter


def post_message(user, encounter_id, body, asks_agent=False):
    with write_transaction():
        encounter = member_or_clinician_encounter(user, encounter_id, lock=True)
        role = messaging_role(user, encounter)
        if asks_agent and role != "clinician":
            validation_error(["body", "asks_agent"], "Only the clinician can ask the agent a question.")
        return _create_message(encounter, role, user, body, asks_agent=asks_agent)


def post_agent_message(encounter, body, reply_to=None):
    with write_transaction():
        encounter = _load(encounter.id, lock=True)  # its status now, not when the request began
        if reply_to is not None and not Message.select().where(
                (Message.id == reply_to) & (Message.encounter == encounter.id) & Message.asks_agent).exists():
            validation_error(["body", "reply_to"], "Not a question to the agent in this encounter.")
        return _create_message(encounter, "agent", None, body, reply_to=reply_to)


def list_messages(encounter, limit, cursor=None, after=None):
    """Messages oldest first; `after` (a message id) gives only newer ones, for polling."""
    query = Message.select().where(Message.encounter == encounter.id)
    if after:
        anchor = Message.get_or_none((Message.id == after) & (Message.encounter == encounter.id))
        if anchor is None:
            validation_error(["query", "after"], "Not a message of this encounter.")
        query = query.where(Tuple(Message.created_at, Message.id) > Tuple(anchor.created_at, anchor.id))
    page = paginate(query, (Message.created_at, Message.id), limit, cursor)
    audit("message.list", encounter, count=len(page["data"]))
    return page


def _by_token(column, token):
    """The encounter whose stored digest `column` matches `token`, compared in constant time."""
    wanted = digest(token)
    encounter = Encounter.get_or_none(column == wanted)
    if encounter is None or not hmac.compare_digest(getattr(encounter, column.name), wanted):
        return None
    lifecycle.expire_if_due(encounter)
    return encounter


def find_by_encounter_token(token):
    return _by_token(Encounter.encounter_token_hash, token)


def find_by_session_token(token):
    return _by_token(Encounter.session_token_hash, token)

