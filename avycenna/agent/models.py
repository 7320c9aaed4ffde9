"""Idempotency records: the first response to a keyed request, for replay to retries."""
from peewee import CharField, DateTimeField, IntegerField, TextField

from avycenna.clock import utcnow
from avycenna.db import BaseModel


class IdempotencyRecord(BaseModel):
    # sha256 of (scope, caller, Idempotency-Key): the raw key is never stored.
    key_hash = CharField(primary_key=True, max_length=64)
    body_hash = CharField(max_length=64)
    salt = CharField(max_length=64)  # with the raw key, re-derives secrets left out of `response`
    status_code = IntegerField()
    response = TextField()  # JSON without any token
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
