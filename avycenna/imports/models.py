"""One uploaded export and how far its import has come."""
from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id
from avycenna.patients.models import Patient

STATUSES = ("queued", "running", "done", "failed")


class WearableImport(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("imp"))
    patient = ForeignKeyField(Patient, on_delete="CASCADE")
    account = ForeignKeyField(User, on_delete="CASCADE")  # who uploaded it
    status = CharField(max_length=16, default="queued", index=True)  # queued | running | done | failed
    filename = CharField(max_length=255)
    path = CharField(max_length=255, null=True)  # the upload under instance/imports/; None once deleted
    bytes_total = BigIntegerField()
    bytes_read = BigIntegerField(default=0)
    inserted = TextField(default="{}")  # JSON {type: count}
    duplicates = IntegerField(default=0)
    skipped = TextField(default="{}")  # JSON {reason: count}
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    heartbeat_at = DateTimeField(null=True)  # a running import writes it with every progress step
    lease_owner = CharField(max_length=64, null=True)  # the run holding a running import
    lease_expires_at = DateTimeField(null=True)  # renewed by that run alone while it reads
    finished_at = DateTimeField(null=True)


# One running import per account, enforced by the database too (a partial unique index, on
# SQLite and PostgreSQL alike): of two workers claiming two imports of one account at once,
# one wins and the other import stays queued until the first ends. One account's uploads so
# take turns, and never hold every worker while another account's import waits.
WearableImport.add_index(WearableImport.index(WearableImport.account, unique=True,
                                              name="wearable_import_one_running_per_account")
                         .where(WearableImport.status == "running"))


class ImportUpload(BaseModel):
    """A resumable (tus) upload of an export, received in pieces: `offset` bytes of `length` are
    in the file at `path`. Each piece is written by one request at a time (`writer`, held until
    `writer_until`), and `offset` moves only by a conditional update from the offset the piece
    started at. Complete, the file becomes the import `wearable_import` (which owns it then)."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("upl"))
    patient = ForeignKeyField(Patient, on_delete="CASCADE")
    account = ForeignKeyField(User, on_delete="CASCADE")  # who uploads it: the patient's owner
    filename = CharField(max_length=255)
    path = CharField(max_length=255, null=True)  # under instance/imports/; None once the import has it
    length = BigIntegerField()  # Upload-Length
    offset = BigIntegerField(default=0)  # Upload-Offset: bytes received and stored
    writer = CharField(max_length=64, null=True)  # the request writing a piece now
    writer_until = DateTimeField(null=True)
    wearable_import = ForeignKeyField(WearableImport, null=True, on_delete="SET NULL")  # once complete
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)  # Upload-Expires: deleted, with its bytes, after it
