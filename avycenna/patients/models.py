"""People whose care an account manages: the account holder, spouse, children…"""
import uuid

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, UUIDField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel

RELATIONSHIPS = ("self", "spouse", "child", "parent", "guardian", "dependent", "other")
SEXES_AT_BIRTH = ("female", "male", "intersex", "unknown")
ID_STATUSES = ("unverified", "pending", "verified", "rejected")


class Patient(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    account = ForeignKeyField(User, backref="patients", on_delete="CASCADE")
    name = CharField(max_length=200)
    date_of_birth = DateField()
    relationship = CharField(max_length=16)
    sex_at_birth = CharField(max_length=16, null=True)
    # Telehealth consent: the version of the consent text agreed to, and when.
    consent_version = CharField(max_length=32, null=True)
    consent_given_at = DateTimeField(null=True)
    id_verification_status = CharField(max_length=16, default="unverified")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    archived_at = DateTimeField(null=True)  # archived, never deleted
