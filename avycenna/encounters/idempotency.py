"""`Idempotency-Key`: a retried request gets the first response, not a second encounter.

Records are keyed per caller (the user, else the salted IP hash) and per
endpoint, hold only a digest of the key and of the body, and expire after
IDEMPOTENCY_TTL (24 h). The same key with another body is a 422. Stored responses
never contain a token: the caller re-derives them from the key (tokens.py).
"""
import functools
import hashlib
import json
import re
from datetime import timedelta

from flask import current_app, g, request
from peewee import IntegrityError

from avycenna.encounters.models import IdempotencyRecord
from avycenna.http import ip_hash
from avycenna.jsonbody import request_body_or_none
from avycenna.clock import utcnow
from avycenna.errors import validation_error

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}\Z")
OPENAPI_PARAMETER = {"name": HEADER, "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                "pattern": KEY_PATTERN.pattern.replace("\\Z", "$")},
                     "description": "Retry safely: the same key and body return the first response "
                                    "(for 24 h); the same key with another body is a 422."}


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _caller():
    actor = g.actor
    return "user:" + actor.user.id if actor.is_user else "ip:" + ip_hash()


def header_key():
    """The request's Idempotency-Key, or None; 422 when malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        validation_error(["header", HEADER], "1 to 255 visible ASCII characters.")
    return key


def _key_hash(key):
    return _sha(f"{request.method} {request.path}\n{_caller()}\n{key}")


def _body_hash():
    return _sha(json.dumps(request_body_or_none(), sort_keys=True, separators=(",", ":")))


def find(key):
    """The live record for this key, or None; 422 when the body differs from the first one."""
    row = IdempotencyRecord.get_or_none((IdempotencyRecord.key_hash == _key_hash(key))
                                        & (IdempotencyRecord.expires_at > utcnow()))
    if row is not None and row.body_hash != _body_hash():
        validation_error(["header", HEADER], "This Idempotency-Key was used with a different request body.",
                         "value_error.idempotency_key")
    return row


def is_replay():
    """For the rate limiter: a retry of a recorded request is not counted again."""
    key = request.headers.get(HEADER)
    if not key or not KEY_PATTERN.match(key):
        return False
    return IdempotencyRecord.select().where(
        (IdempotencyRecord.key_hash == _key_hash(key)) & (IdempotencyRecord.body_hash == _body_hash())
        & (IdempotencyRecord.expires_at > utcnow())).exists()


def save(key, salt, status_code, response):
    """Remember the first response (call inside the transaction that did the work)."""
    key_hash, now = _key_hash(key), utcnow()
    IdempotencyRecord.delete().where((IdempotencyRecord.key_hash == key_hash)
                                     & (IdempotencyRecord.expires_at <= now)).execute()
    IdempotencyRecord.create(key_hash=key_hash, body_hash=_body_hash(), salt=salt, status_code=status_code,
                             response=json.dumps(response), created_at=now,
                             expires_at=now + timedelta(seconds=current_app.config["IDEMPOTENCY_TTL"]))


def replay_twin(unit):
    """Decorator for a unit of work that replays its key's record, or does the work and saves
    one. When a twin request with the same key commits first (PostgreSQL runs them at once),
    this one's `save` hits the unique key and its transaction rolls back: run it again, and
    it finds the twin's record and replays it, as it would one after the other."""
    @functools.wraps(unit)
    def run(*args, **kwargs):
        try:
            return unit(*args, **kwargs)
        except IntegrityError:
            if header_key() is None:
                raise
            return unit(*args, **kwargs)
    return run


def purge_expired():
    return IdempotencyRecord.delete().where(IdempotencyRecord.expires_at <= utcnow()).execute()
