"""People whose care an account manages: the account holder, spouse, children…"""
import uuid

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, UUIDField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id

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


# At most one live `self` patient per account, enforced by the database too (a partial
# unique index, on SQLite and PostgreSQL alike), so two racing creates cannot both win.
Patient.add_index(Patient.index(Patient.account, unique=True, name="patient_one_self_per_account")
                  .where((Patient.relationship == "self") & Patient.archived_at.is_null()))

DOCUMENT_TYPES = ("passport", "drivers_license", "national_id", "residence_permit", "other")


class IdVerification(BaseModel):
    """A request to verify a patient's identity; the document number is kept masked."""

    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("idv"))
    patient = ForeignKeyField(Patient, backref="id_verifications", on_delete="CASCADE")
    document_type = CharField(max_length=32)
    document_number_masked = CharField(max_length=64)  # all but the last 4 replaced by '*'
    issuing_country = CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    expires_on = DateField(null=True)
    status = CharField(max_length=16, default="pending", index=True)  # pending | verified | rejected
    reviewed_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    reviewed_at = DateTimeField(null=True)
    review_note = CharField(max_length=500, null=True)
    created_at = DateTimeField(default=utcnow)
