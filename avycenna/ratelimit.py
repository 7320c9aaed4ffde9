"""Rate limits (flask-limiter), keyed by credential.

JWT callers share a budget per user, API-key callers per key, everyone else per
client IP. The moving-window strategy never lets twice the limit through at a
window boundary. `RATELIMIT_STORAGE_URI=redis://…` shares the counts between
processes; the default memory storage is per process.
"""
from flask import current_app, g, request
from flask_limiter import Limiter
from limits import parse

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


# Application limits are one budget per credential across every route (default limits
# would give each route its own budget).
limiter = Limiter(key_func=credential_key, application_limits=[credential_limit])


@limiter.request_filter
def _exempt():
    return request.path.startswith(EXEMPT_PREFIXES)


def only_429_retries(response):
    """flask-limiter adds Retry-After to every limited response; only a 429 (or a 503
    that set its own) should tell a client to back off. A view that asks for a polling
    interval (a 202 of an async job) sets `g.retry_after`, and that value is sent."""
    if g.get("retry_after") is not None:
        response.headers["Retry-After"] = str(g.retry_after)
    elif response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def count_unrouted(response):
    """A request no route matched (404/405) still counts against its credential's budget
    and carries the budget's headers, like every other API response."""
    if (not request.path.startswith(("/api/", "/fhir/")) or request.url_rule is not None
            or "X-RateLimit-Limit" in response.headers or not limiter.enabled):
        return response
    item = parse(credential_limit())
    args = [limiter._key_prefix, credential_key(), "global"]  # how application limits are keyed
    limiter.limiter.hit(item, *args)
    reset, remaining = limiter.limiter.get_window_stats(item, *args)
    response.headers["X-RateLimit-Limit"] = str(item.amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(int(reset))
    return response


def init_app(app):
    # The limiter is module-level (views decorate with it) but each app has its own
    # storage and key prefix; flask-limiter keeps the first prefix it saw otherwise.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    app.after_request(only_429_retries)  # registered first, so it runs after the limiter's
    app.after_request(count_unrouted)
    limiter.init_app(app)


def ip_key():
    """The client's IP, as a salted hash: raw addresses never reach the limit storage."""
    return "ip:" + ip_hash()


def config_limit(name):
    """A limit read from the config at request time (so each app can set its own)."""
    return lambda: current_app.config[name]
