"""Accounts."""
from peewee import BooleanField, CharField, DateTimeField

from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id

ROLES = ("member", "clinician", "admin")
STAFF_ROLES = ("clinician", "admin")


class User(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("usr"))
    email = CharField(max_length=254, unique=True)  # stored lower-cased
    name = CharField(max_length=200, default="")
    role = CharField(max_length=16, default="member")
    password_hash = CharField(max_length=255, null=True)
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    disabled_at = DateTimeField(null=True)
