"""Rate limits (flask-limiter), keyed by credential.

JWT callers share a budget per user, API-key callers per key, everyone else per
client IP. The moving-window strategy never lets twice the limit through at a
window boundary. `RATELIMIT_STORAGE_URI=redis://…` shares the counts between
processes; the default memory storage is per process.
"""
from flask import current_app, g, request
from flask_limiter import Limiter

from avycenna.auth.actor import ip_hash

EXEMPT_PREFIXES = ("/health", "/docs", "/redoc", "/openapi.json", "/static/")


def credential_key():
    actor = getattr(g, "actor", None)
    if actor is not None and actor.kind == "api_key":
        return "key:" + actor.api_key.id
    if actor is not None and actor.kind == "user":
        return "user:" + actor.user.id
    return ip_key()


def credential_limit():
    actor = getattr(g, "actor", None)
    config = current_app.config
    if actor is not None and actor.kind == "api_key":
        return config["RATELIMIT_API_KEY"]
    if actor is not None and actor.kind == "user":
        return config["RATELIMIT_JWT"]
    return config["RATELIMIT_ANONYMOUS"]


limiter = Limiter(key_func=credential_key, default_limits=[credential_limit])


@limiter.request_filter
def _exempt():
    return request.path.startswith(EXEMPT_PREFIXES)


def init_app(app):
    # The limiter is module-level (views decorate with it) but each app has its own
    # storage and key prefix; flask-limiter keeps the first prefix it saw otherwise.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    limiter.init_app(app)


def ip_key():
    """The client's IP, as a salted hash: raw addresses never reach the limit storage."""
    return "ip:" + ip_hash()


def config_limit(name):
    """A limit read from the config at request time (so each app can set its own)."""
    return lambda: current_app.config[name]
