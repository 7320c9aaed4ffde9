"""Accounts."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

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


class RefreshToken(BaseModel):
    """One opaque refresh token; every token rotated from one sign-in shares a `family`."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("rft"))
    user = ForeignKeyField(User, backref="refresh_tokens", on_delete="CASCADE")
    family = CharField(max_length=32, index=True)
    token_hash = CharField(max_length=64, unique=True)  # sha256 hex of the token
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)  # rotated: presenting it again is reuse
    revoked_at = DateTimeField(null=True)


class OtpCode(BaseModel):
    """A 6-digit sign-in code sent by e-mail; only the latest one per address counts."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("otp"))
    email = CharField(max_length=254, index=True)
    code_hash = CharField(max_length=64)  # HMAC-SHA256 with the secret key
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    consumed_at = DateTimeField(null=True)  # used, burned or superseded


class BrowserSession(BaseModel):
    """One signed-in browser. The page cookie holds a random token; only its SHA-256 is kept.

    Checked on every page request, so revoking the row (sign-out, "sign out everywhere", a
    password change, a disabled account) ends that browser's session on its next request.
    """
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("ses"))
    user = ForeignKeyField(User, backref="browser_sessions", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)  # the sign-in time (fresh proof for password changes)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
