"""Encounters: a person's medical question, opened by an agent, answered by a clinician."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id
from avycenna.patients.models import Patient


class Encounter(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("enc"))
    account = ForeignKeyField(User, null=True, backref="encounters", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, null=True, backref="encounters", on_delete="SET NULL")
    status = CharField(max_length=24, default="awaiting_checkout", index=True)  # see lifecycle.py
    # Secrets are stored only as sha256 hex digests.
    session_token_hash = CharField(max_length=64, unique=True)
    encounter_token_hash = CharField(max_length=64, unique=True)
    token_expires_at = DateTimeField()  # 72 h after creation; also the checkout deadline
    payment = CharField(max_length=16, null=True)  # subscription | invoice, once submitted
    checked_out_at = DateTimeField(null=True)  # a person completed checkout (may await staff/payment)
    clinician = ForeignKeyField(User, null=True, backref="taken_encounters", on_delete="SET NULL")
    summary = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True, index=True)
    taken_at = DateTimeField(null=True)
    answered_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)

    class Meta:
        # An account's list, newest first: one index range at any depth and any list length.
        indexes = ((("account", "created_at", "id"), False),)


class EncounterQuery(BaseModel):
    """One query text; the latest is what the clinician reads, earlier ones are kept."""

    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("qry"))
    encounter = ForeignKeyField(Encounter, backref="queries", on_delete="CASCADE")
    text = TextField()
    source = CharField(max_length=16)  # agent | follow_up
    created_at = DateTimeField(default=utcnow)


class Message(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("msg"))
    encounter = ForeignKeyField(Encounter, backref="messages", on_delete="CASCADE")
    author_role = CharField(max_length=16)  # member | clinician | agent
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    body = TextField()
    asks_agent = BooleanField(default=False)  # a clinician's question for the agent
    is_answer = BooleanField(default=False)  # the clinician's answer
    reply_to = CharField(max_length=32, null=True)  # message id the agent answers
    created_at = DateTimeField(default=utcnow, index=True)


# Idempotency records: the first response to a keyed agent or follow-up query, for replay to retries.
class IdempotencyRecord(BaseModel):
    # sha256 of (scope, caller, Idempotency-Key): the raw key is never stored.
    key_hash = CharField(primary_key=True, max_length=64)
    body_hash = CharField(max_length=64)
    salt = CharField(max_length=64)  # with the raw key, re-derives secrets left out of `response`
    status_code = IntegerField()
    response = TextField()  # JSON without any token
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
