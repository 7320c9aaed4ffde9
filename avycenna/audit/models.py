"""The append-only audit log: who did what to which patient's data, and when."""
from peewee import CharField, DateTimeField, TextField

from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id


class AuditEvent(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("evt"))
    at = DateTimeField(default=utcnow, index=True)
    action = CharField(max_length=64, index=True)  # e.g. "auth.login", "patient.read"
    outcome = CharField(max_length=16, default="success")  # success | failure | denied
    actor_type = CharField(max_length=16)  # user | api_key | oauth | encounter | anonymous | system
    actor_user_id = CharField(max_length=32, null=True, index=True)
    actor_key_id = CharField(max_length=32, null=True)  # the API key, or the OAuth client (actor_type oauth)
    actor_encounter_id = CharField(max_length=32, null=True)
    patient_id = CharField(max_length=36, null=True, index=True)
    target_type = CharField(max_length=32, null=True)
    target_id = CharField(max_length=64, null=True)
    ip_hash = CharField(max_length=64, null=True)
    request_id = CharField(max_length=128, null=True)
    details = TextField(default="{}")  # JSON; never a secret, code or clinical text
