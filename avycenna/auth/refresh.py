"""Refresh tokens: opaque, stored as SHA-256 digests, rotated on use, grouped in families.

A family is every token descended from one sign-in. Refreshing marks the token
used and issues its successor in the same family; presenting a used token again
means it was copied, so the whole family is revoked.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from avycenna.audit.service import record
from avycenna.auth.models import RefreshToken
from avycenna.clock import utcnow
from avycenna.db import locked, write_transaction
from avycenna.errors import fail
from avycenna.ids import new_id

PREFIX = "avr_"
INVALID = "Invalid or expired refresh token."


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(user, family=None):
    """A new refresh token for `user` (a new family unless one is given); returns the token."""
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    RefreshToken.create(user=user, family=family or new_id("fam"), token_hash=hash_token(token),
                        created_at=now,
                        expires_at=now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]))
    return token


def family_of(token):
    """(family, sign-in time) of a refresh token: the family's first token was issued at sign-in."""
    row = find_token(token)
    first = (RefreshToken.select(RefreshToken.created_at).where(RefreshToken.family == row.family)
             .order_by(RefreshToken.created_at).first())
    return row.family, first.created_at


def find_token(token, lock=False):
    query = RefreshToken.select().where(RefreshToken.token_hash == hash_token(token or ""))
    return (locked(query) if lock else query).first()


def revoke_family(family):
    RefreshToken.update(revoked_at=utcnow()).where(
        (RefreshToken.family == family) & RefreshToken.revoked_at.is_null()).execute()


def revoke_all(user):
    """Sign `user` out everywhere: every refresh family and every browser session ends."""
    from avycenna.auth.sessions import end_sign_ins

    end_sign_ins(user)


def rotate(token):
    """Exchange a live refresh token for (user, successor token); reuse revokes the family.

    The token is read under a row lock: of two requests presenting it at once, the second
    sees it used, as it would one after the other, and the family is revoked.
    """
    with write_transaction():
        row = find_token(token, lock=True)
        reused = row is not None and row.used_at is not None and row.revoked_at is None
        if reused:
            revoke_family(row.family)
        elif row is not None and row.revoked_at is None and row.expires_at > utcnow() \
                and row.user.is_active and _mark_used(row):
            return row.user, issue_refresh_token(row.user, row.family)
    if reused:
        record("auth.refresh_reuse", outcome="denied", user_id=row.user_id,
               target_type="refresh_family", target_id=row.family)
    fail(401, INVALID)


def _mark_used(row):
    """Claim the token once, even against a concurrent refresh of the same token."""
    return RefreshToken.update(used_at=utcnow()).where(
        (RefreshToken.id == row.id) & RefreshToken.used_at.is_null()).execute() == 1


def logout(token, everywhere=False):
    """Revoke the token's family, or every family of its owner; returns the owner."""
    row = find_token(token)
    if row is None:
        fail(401, INVALID)
    with write_transaction():
        revoke_all(row.user) if everywhere else revoke_family(row.family)
    return row.user


def purge_expired():
    """Delete refresh tokens past their expiry (rejected anyway); returns how many."""
    return RefreshToken.delete().where(RefreshToken.expires_at < utcnow()).execute()
