"""JWT access tokens (PyJWT, HS256 pinned on decode).

Signing keys are derived from the app's secret key per key id (`kid`); the key id
in `JWT_KEY_ID` signs new tokens and every id in `JWT_ACCEPTED_KEY_IDS` still
verifies, so rotating the id lets old tokens run out their 15 minutes.
"""
import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta, timezone

import jwt
from flask import current_app

from avycenna.clock import utcnow

ALGORITHM = "HS256"
ACCESS_TYPE = "access"


def _signing_key(kid):
    secret = current_app.config.get("JWT_SECRETS", {}).get(kid) or current_app.secret_key
    return hmac.new(secret.encode() if isinstance(secret, str) else secret,
                    b"avycenna.jwt." + kid.encode(), hashlib.sha256).digest()


def access_token_ttl():
    return timedelta(seconds=current_app.config["ACCESS_TOKEN_TTL"])


def issue_access_token(user, auth_time=None, family=None):
    """A signed 15-minute access token for `user`.

    `auth_time` (OpenID Connect's claim) is when the person signed in — it survives refreshes —
    and `fam` names the refresh family the token came from; together they let a password
    change ask for a recent sign-in and keep the caller's own sign-in alive.
    """
    now = utcnow()
    kid = current_app.config["JWT_KEY_ID"]
    claims = {
        "sub": user.id,
        "role": user.role,
        "typ": ACCESS_TYPE,
        "iss": current_app.config["JWT_ISSUER"],
        "aud": current_app.config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + access_token_ttl(),
        "jti": secrets.token_urlsafe(12),
    }
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.replace(tzinfo=timezone.utc).timestamp()) if auth_time.tzinfo is None \
            else int(auth_time.timestamp())
    if family is not None:
        claims["fam"] = family
    return jwt.encode(claims, _signing_key(kid), algorithm=ALGORITHM, headers={"kid": kid})


def _accepted_key_ids():
    current = current_app.config["JWT_KEY_ID"]
    return [current] + [kid for kid in current_app.config["JWT_ACCEPTED_KEY_IDS"] if kid != current]


def _verify(token, kid):
    """PyJWT's full check of `token` against `kid`'s key: (header, claims), or None."""
    try:
        decoded = jwt.decode_complete(
            token, _signing_key(kid), algorithms=[ALGORITHM],
            audience=current_app.config["JWT_AUDIENCE"], issuer=current_app.config["JWT_ISSUER"],
            options={"require": ["exp", "iat", "sub", "typ", "iss", "aud"]},
            leeway=0,
        )
    except jwt.InvalidSignatureError:
        return None
    return decoded["header"], decoded["payload"]


# Verified access tokens (token -> claims), so a client reusing its token for 15 minutes
# pays PyJWT's checks once. A token is immutable and its signature, issuer, audience and
# type stay as verified; only time moves, so `exp` is checked again on every use. Tokens that
# failed are never kept. The account behind `sub` is still read on every request.
_VERIFIED = {}
_VERIFIED_MAX = 4096
_verified_lock = threading.Lock()


def decode_access_token(token):
    """The claims of a valid, unexpired access token, or None."""
    config = current_app.config
    key = (token, current_app.secret_key, config["JWT_KEY_ID"], tuple(config["JWT_ACCEPTED_KEY_IDS"]),
           config["JWT_AUDIENCE"], config["JWT_ISSUER"], tuple(sorted((config.get("JWT_SECRETS") or {}).items())))
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _decode(token)
        if claims is None:
            return None
        with _verified_lock:
            if len(_VERIFIED) >= _VERIFIED_MAX:
                del _VERIFIED[next(iter(_VERIFIED))]  # the oldest kept
            _VERIFIED[key] = claims
    return claims if claims["exp"] > time.time() else None


def _decode(token):
    """PyJWT's full verification of `token`: its claims, or None.

    Decoded once in the common case: verified against the current key id's key, and the
    header's `kid` must name that key. Only a token that fails that signature (one signed
    under a still-accepted older key id) is tried against the other accepted keys.
    """
    try:
        for kid in _accepted_key_ids():
            verified = _verify(token, kid)
            if verified is not None:
                header, claims = verified
                break
        else:
            return None
    except jwt.PyJWTError:
        return None
    if header.get("kid") != kid or header.get("alg") != ALGORITHM or claims.get("typ") != ACCESS_TYPE:
        return None
    return claims
