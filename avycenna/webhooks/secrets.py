"""Endpoint signing secrets (`whsec_…`): each endpoint's own, stored with it.

Signing needs the secret itself, so it cannot be kept as a hash the way API keys
are. Each endpoint has 32 random bytes of its own (the Standard Webhooks `whsec_`
base64 form), made when it is registered or rotated and shown in that response
only. It lives in the endpoint's row: protected like the rest of the database
(SQLite file and backups 0600 in 0700 folders, PostgreSQL's own access control),
never logged, never returned by a read. It owes nothing to SECRET_KEY, so rotating
that key, or restoring a backup under another one, leaves every integrator's check
working. (Until migration 0017 secrets were derived from SECRET_KEY; the migration
stored each endpoint's derived secret as it was.)

After a rotation the previous secret keeps signing for `WEBHOOK_SECRET_OVERLAP`
seconds: each delivery then carries both signatures, space-separated in
`webhook-signature`, and a receiver holding either secret verifies it.
"""
import base64
import secrets

from avycenna.clock import utcnow

PREFIX = "whsec_"


def new_secret():
    """A fresh `whsec_…` secret: 32 random bytes, base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint, now=None):
    """The secrets a delivery to `endpoint` is signed with now: its own, then the one before a
    rotation while the overlap lasts."""
    now = now or utcnow()
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(endpoint.previous_secret)
    return found
