"""Session and encounter tokens: random secrets, stored only as sha256 digests.

The session token is the root secret an agent holds; the 64-character encounter
token is derived from it with the server's secret key (HMAC-SHA256, hex), so the
server can hand it out again when the agent continues the session, without ever
storing either token. A retried request with the same Idempotency-Key re-derives
its session token from that key and a stored salt (see encounters/idempotency.py).
"""
import hashlib
import hmac
import secrets

from flask import current_app


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _hmac(label, value):
    return hmac.new(current_app.secret_key.encode(), label + value.encode(), hashlib.sha256)


def new_session_token(seed=None):
    """43 URL-safe characters: random, or derived from a (salt + Idempotency-Key) seed."""
    if seed is None:
        return secrets.token_urlsafe(32)
    import base64

    return base64.urlsafe_b64encode(_hmac(b"session-token:", seed).digest()).decode().rstrip("=")


def encounter_token_for(session_token):
    """The encounter token that belongs to a session token (64 hex characters)."""
    return _hmac(b"encounter-token:", session_token).hexdigest()


def matches(stored_digest, token):
    return hmac.compare_digest(stored_digest, digest(token))
