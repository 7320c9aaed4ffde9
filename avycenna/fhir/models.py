"""A Bulk Data export: who asked, its state and progress, the ndjson files it wrote."""
import json

from peewee import CharField, CompositeKey, DateTimeField, ForeignKeyField, IntegerField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id
from avycenna.patients.models import Patient

# queued → running → done | failed; cancelled (DELETE) from queued or running or done.
EXPORT_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class FhirExport(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("exp"))
    user = ForeignKeyField(User, on_delete="CASCADE")  # the requester: the only one who may read it
    status = CharField(max_length=16, default="queued", index=True)
    types = CharField(max_length=128)  # comma-separated resource types to write
    request_url = TextField()  # the kick-off URL, echoed in the manifest
    patients_total = IntegerField(default=0)
    patients_done = IntegerField(default=0)
    attempt = IntegerField(default=0)  # which run of the job owns it (a restarted job's old run stops)
    files = TextField(default="[]")  # JSON [{"type", "count"}], once done
    error = CharField(max_length=200, null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)  # heartbeat while running
    finished_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True, index=True)  # files deleted after this
    kind = CharField(max_length=16, default="patient")  # patient | group | system: see export.KINDS
    since = DateTimeField(null=True)  # `_since`: only resources changed after this (naive UTC)

    @property
    def file_list(self):
        return json.loads(self.files or "[]")

    @property
    def type_list(self):
        return [t for t in self.types.split(",") if t]


class FhirExportPatient(BaseModel):
    """One patient whose data a run of an export wrote, and the scopes it was read under.

    Every status poll and file download asks the access rule again for each of them: the
    export is served only while its requester may still read every one (`export.readable`).
    """
    export = ForeignKeyField(FhirExport, on_delete="CASCADE", index=False)  # the key leads with it
    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=True)
    scopes = CharField(max_length=64)  # comma-separated: the grant scopes the written sections needed

    class Meta:
        primary_key = CompositeKey("export", "patient")

    @property
    def scope_set(self):
        return {s for s in self.scopes.split(",") if s}
