"""A clinician's request for access to a patient's data, and its answer."""
from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id
from avycenna.patients.models import Patient

SCOPES = ("profile", "wearables", "encounters")
# Stored states; "expired" is never stored but derived when a grant is read (see service).
STATUSES = ("pending", "active", "declined", "revoked", "expired")


class Grant(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("grt"))
    clinician = ForeignKeyField(User, backref="outgoing_grants", on_delete="CASCADE")
    email = CharField(max_length=254, index=True)  # the holder's e-mail, lower-cased
    scopes = CharField(max_length=64)  # comma-separated subset of SCOPES
    message = TextField(null=True)
    status = CharField(max_length=16, default="pending")  # pending | active | declined | revoked
    patient = ForeignKeyField(Patient, null=True, backref="grants", on_delete="CASCADE")
    holder = ForeignKeyField(User, null=True, backref="incoming_grants", on_delete="CASCADE")
    expires_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    responded_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    revoked_by = CharField(max_length=16, null=True)  # clinician | holder

    class Meta:
        table_name = "access_grant"  # GRANT is an SQL keyword

    @property
    def scope_list(self):
        return [s for s in self.scopes.split(",") if s]
