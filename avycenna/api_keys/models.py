"""Personal API keys, stored only as hashes."""
from peewee import CharField, DateTimeField, ForeignKeyField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id


class ApiKey(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("key"))
    user = ForeignKeyField(User, backref="api_keys", on_delete="CASCADE")
    name = CharField(max_length=100)
    prefix = CharField(max_length=16)  # visible part, e.g. "avk_a7f3c91e"
    key_hash = CharField(max_length=64, unique=True)  # sha256 hex of the whole key
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
