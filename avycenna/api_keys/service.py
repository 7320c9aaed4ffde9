"""Creating, listing, resolving and revoking API keys."""
import hmac

from avycenna.api_keys.models import ApiKey
from avycenna.api_keys.secrets import generate_key, hash_key, looks_valid, visible_prefix
from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.auth.models import User
from avycenna.db import Prepared, write_transaction
from avycenna.errors import not_found


def create_key(user, name):
    """A new key for `user`: returns (ApiKey row, the full key shown once)."""
    key = generate_key()
    with write_transaction():
        row = ApiKey.create(user=user, name=name, prefix=visible_prefix(key), key_hash=hash_key(key))
    return row, key


# Every API-key request runs this: one query for the key and its owner, compiled once.
KEY_WITH_OWNER = Prepared(lambda digest: ApiKey.select(ApiKey, User).join(User).where(ApiKey.key_hash == digest))


def resolve_key(key):
    """The ApiKey for a presented key (its owner loaded, read now), or None."""
    if not looks_valid(key):
        return None
    digest = hash_key(key)
    row = KEY_WITH_OWNER.first(digest)
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row


def touch(row, min_interval_seconds=60):
    """Record use, at most once a minute per key so reads don't all become writes."""
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= min_interval_seconds:
        ApiKey.update(last_used_at=now).where(ApiKey.id == row.id).execute()
        row.last_used_at = now


def list_keys(user):
    """`user`'s keys (never the secret part); callers order or paginate."""
    return ApiKey.select().where(ApiKey.user == user)


def issue_key(user, name):
    """Create a key for the signed-in `user` and audit it: (row, the full key shown once)."""
    row, key = create_key(user, name)
    record("api_key.create", target_type="api_key", target_id=row.id)
    return row, key


def delete_key(user, key_id):
    """Revoke one of `user`'s keys at once; 404 when it is not theirs."""
    deleted = ApiKey.delete().where((ApiKey.id == key_id) & (ApiKey.user == user)).execute()
    if not deleted:
        not_found("API key not found.")
    record("api_key.delete", target_type="api_key", target_id=key_id)
