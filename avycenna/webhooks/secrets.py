"""Endpoint signing secrets (`whsec_…`), derived rather than stored.

Signing needs the secret itself, so a hash cannot be kept as for API keys. Each
endpoint stores a random salt; its secret is HMAC-SHA256(SECRET_KEY, salt), shown
once at creation and re-derived whenever a delivery is signed. A copy of the
database alone therefore cannot forge signatures, and no ciphertext or extra key
needs managing. Changing SECRET_KEY changes every endpoint's secret (as it
already ends every session and token); receivers then need the new secrets.
"""
import base64
import hashlib
import hmac
import secrets

from flask import current_app

PREFIX = "whsec_"


def new_salt():
    return secrets.token_hex(16)


def secret_for(salt):
    """The `whsec_…` secret of the endpoint with this salt."""
    key = current_app.secret_key.encode()
    raw = hmac.new(key, b"webhook-secret:" + salt.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b64encode(raw).decode()
