"""A row per backup taken, so admins can see when the last one ran."""
from peewee import BigIntegerField, CharField, DateTimeField

from avycenna.clock import utcnow
from avycenna.db import BaseModel


class BackupRecord(BaseModel):
    """One finished backup: where it went, its checksum and schema version."""

    created_at = DateTimeField(default=utcnow, index=True)
    path = CharField(max_length=1024)
    sha256 = CharField(max_length=64)
    schema_version = CharField(max_length=128)
    size_bytes = BigIntegerField()
