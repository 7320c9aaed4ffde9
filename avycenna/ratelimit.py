"""Rate limits: one budget per credential on every request, named budgets on some routes.

JWT callers share a budget per user, API-key callers per key, everyone else per
client IP (`RATELIMIT_JWT`, `RATELIMIT_API_KEY`, `RATELIMIT_ANONYMOUS`). The
moving-window strategy never lets twice the limit through at a window boundary.
`RATELIMIT_STORAGE_URI=redis://…` shares the counts between processes; the default
memory storage is per process. When Redis cannot be reached the counts fall back to
memory (logged, and counted in `avycenna_ratelimit_fallbacks_total`) and go back to
Redis once it answers again: while Redis is away, N processes allow up to N times a
budget. The Redis client gives up after `REDIS_TIMEOUT` seconds (connect or answer), so a
Redis that is down or cut off slows a request by at most that, never hangs it.

The per-credential budget is spent by `spend_budget` with the `limits` library (the
storage and moving window flask-limiter itself uses), once per request: on Redis the
hit and the window read for the headers go out as one round trip. Named budgets on
single routes (sign-in, OTP, agent queries) and the pages' budget are flask-limiter's
decorators (`limiter.shared_limit`, `limiter.limit`). Resolving flask-limiter's generic
limits cost a quarter of every request (measured with cProfile), so it
runs only where such a budget applies: in the decorated views, and before each page.
"""
import functools
import logging
import threading
import time
from datetime import datetime, timezone

from flask import current_app, g
from flask.globals import request_ctx
from flask_limiter import Limiter
from limits import parse
from limits import storage as limits_storage
from limits.storage import RedisStorage
from redis.exceptions import NoScriptError

from avycenna.http import ip_hash
from avycenna.errors import ApiError
from avycenna.instruments import count_ratelimit_fallback

log = logging.getLogger(__name__)

EXEMPT_PREFIXES = ("/health", "/docs", "/redoc", "/openapi.json", "/static/")
# Requests no route matched (or matched for another method: `GET /mcp`) still spend their
# caller's budget under these prefixes.
BUDGETED_UNROUTED = ("/api/", "/fhir/", "/mcp")
# The pages have their own budget (RATELIMIT_WEB, flask-limiter's blueprint limit).
OWN_BUDGET_BLUEPRINTS = ("web",)
RETRY_STORAGE_AFTER = 5.0  # seconds on the memory fallback before Redis is tried again
BUDGET_SCOPE = "global"  # the key's last part (as flask-limiter keyed its application limits)
# A WSGI environ key no client can send (headers arrive as HTTP_*): set on a request the server
# makes in-process for one that has already spent its caller's budget (an MCP tool call's REST
# twin), so one HTTP request never spends twice. Named budgets (agent queries …) still count.
ALREADY_SPENT = "avycenna.budget_spent"

limiter = Limiter(key_func=lambda: credential_key())


class MemoryStorage(limits_storage.MemoryStorage):
    """limits' memory storage (`memory://`, the default), whose expired counts are swept at
    most once a second by the request that finds a sweep due.

    limits' own class starts a new timer thread 10 ms after each hit to sweep them: under
    load that is a hundred threads a second, each taking the interpreter lock from the
    requests (about a tenth of the server's time under wrk, by py-spy). The sweep only
    frees memory: every count and window is computed from the entries' own times, so when a
    sweep runs changes no answer. The sweep itself is limits' own. Registered for the
    `memory` scheme, so flask-limiter's storage (named budgets, pages) is one of these too.
    It overrides limits' name-mangled `_MemoryStorage__schedule_expiry`: kept because it
    saves 7-12 % of an authenticated request (docs/performance.md#private-names);
    tests/test_private_names.py fails if limits renames it."""

    STORAGE_SCHEME = ["memory"]
    SWEEP_EVERY = 1.0  # seconds

    def __init__(self, uri=None, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self):  # replaces limits' per-hit timer thread
        now = time.monotonic()
        if now >= self._next_sweep and self._sweeping.acquire(blocking=False):
            try:
                self._next_sweep = now + self.SWEEP_EVERY
                self._MemoryStorage__expire_events()
            finally:
                self._sweeping.release()


def credential_key(actor=None):
    """The budget key of `actor` (by default the request's caller): its API key, account or IP."""
    if actor is None:
        actor = getattr(g, "actor", None)
    if actor is not None and actor.kind == "api_key":
        return "key:" + actor.api_key.id
    if actor is not None and actor.kind == "user":
        return "user:" + actor.user.id
    if actor is not None and actor.kind == "oauth":  # an assistant's connection: a credential like a key
        return "oauth:" + actor.oauth_token.connection_id
    return ip_key()


def credential_limit(actor, config):
    if actor is not None and actor.kind in ("api_key", "oauth"):
        return config["RATELIMIT_API_KEY"]
    if actor is not None and actor.kind == "user":
        return config["RATELIMIT_JWT"]
    return config["RATELIMIT_ANONYMOUS"]


class Budgets:
    """One app's per-credential counts: the limit storage's moving window, with a memory fallback."""

    def __init__(self, storage, prefix):
        self.storage = storage
        self.prefix = prefix
        self.fallback = MemoryStorage()
        self.fallback_until = 0.0  # monotonic time until which the fallback counts
        self.fell_back_at = None  # epoch seconds of the last switch to the fallback (admin status)
        self._items = {}  # limit string -> parsed RateLimitItem

    def item(self, text):
        parsed = self._items.get(text)
        if parsed is None:
            parsed = self._items[text] = parse(text)
        return parsed

    def spend(self, text, key):
        """Spend one from `key`'s budget `text`: (limit item, allowed, remaining, reset epoch seconds)."""
        item = self.item(text)
        if time.monotonic() >= self.fallback_until:
            try:
                return (item, *self._spend(self.storage, item, key))
            except self.storage.base_exceptions as error:
                log.warning("rate-limit storage unreachable (%s); counting in memory for %ss",
                            type(error).__name__, RETRY_STORAGE_AFTER)
                self.fallback_until = time.monotonic() + RETRY_STORAGE_AFTER
                self.fell_back_at = time.time()
                count_ratelimit_fallback()
        return (item, *self._spend(self.fallback, item, key))

    def _spend(self, storage, item, key):
        """The moving window's hit and its read for the headers, with the storage key made
        once for both (limits' strategy object makes it for each)."""
        storage_key, expiry = item.key_for(self.prefix, key, BUDGET_SCOPE), item.get_expiry()
        if isinstance(storage, RedisStorage):
            allowed, (start, used) = _redis_hit_and_read(storage, storage_key, item.amount, expiry)
        else:
            allowed = storage.acquire_entry(storage_key, item.amount, expiry)
            start, used = storage.get_moving_window(storage_key, item.amount, expiry)
        reset, remaining = start + expiry, item.amount - used
        # As flask-limiter reports it: the (next whole) second at which the oldest counted request leaves.
        return allowed, max(remaining, 0), int(reset + 1)


    def state(self):
        """For the admin status: whether the budgets are shared now, and the last fallback."""
        shared = isinstance(self.storage, RedisStorage)
        counting = "per_process" if not shared or time.monotonic() < self.fallback_until else "shared"
        last = self.fell_back_at
        return {"storage": "redis" if shared else "memory", "counting": counting,
                "last_fallback_at": None if last is None else datetime.fromtimestamp(last, timezone.utc)}


def redis_options(config):
    """The Redis client's timeouts (`REDIS_TIMEOUT`): connect and answer, in seconds."""
    timeout = float(config["REDIS_TIMEOUT"])
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout}


def _redis_hit_and_read(storage, storage_key, amount, expiry):
    """The moving window's hit and its read on Redis in one round trip: limits' own two Lua
    scripts (`acquire_entry` then `get_moving_window`) sent by their hashes in one pipeline
    (redis-py's pipeline of script objects would ask SCRIPT EXISTS first, every time: a
    second round trip). A Redis that lost its scripts (restarted) runs them again through
    the script objects, which load them. Returns (allowed, (window start, requests counted))."""
    key, now = storage.prefixed_key(storage_key), time.time()
    acquire, window = storage.lua_acquire_moving_window, storage.lua_moving_window
    pipe = storage.get_connection().pipeline(transaction=False)
    pipe.evalsha(acquire.sha, 1, key, now, amount, expiry, 1)
    pipe.evalsha(window.sha, 1, key, now - expiry, amount)
    acquired, counted = pipe.execute(raise_on_error=False)
    if isinstance(acquired, NoScriptError):
        acquired = acquire(keys=[key], args=[now, amount, expiry, 1])
    if isinstance(counted, NoScriptError):
        counted = window(keys=[key], args=[now - expiry, amount])
    for result in (acquired, counted):
        if isinstance(result, Exception):
            raise result
    return bool(acquired), ((float(counted[0]), int(counted[1])) if counted else (now, 0))


def budgeted(request):
    """Whether `request` spends its caller's budget (its headers say how much is left)."""
    if not limiter.enabled or request.path.startswith(EXEMPT_PREFIXES) or ALREADY_SPENT in request.environ:
        return False
    if request.url_rule is None:
        return request.path.startswith(BUDGETED_UNROUTED)
    return request.blueprint not in OWN_BUDGET_BLUEPRINTS


def spend_budget(request, g):
    """Before every request, once the caller is known: spend one from their budget; a 429
    with Retry-After once it is used up."""
    if not budgeted(request):
        return
    item, allowed, remaining, reset = current_app.extensions["avycenna_budgets"].spend(
        credential_limit(g.actor, current_app.config), credential_key(g.actor))
    g.budget = (item.amount, remaining, reset)
    if not allowed:
        raise ApiError(429, f"Rate limit exceeded: {item}.", {"Retry-After": str(max(int(reset - time.time()), 1))})


def budget_headers(response, request, g):
    """The budget's X-RateLimit-* headers, unless a route's named budget (flask-limiter's,
    which ran first) already told the caller about the budget that binds it."""
    budget = g.get("budget")
    if budget is not None and not response.headers.getlist("X-RateLimit-Limit"):  # `in` raises when absent
        amount, remaining, reset = budget
        headers = response.headers  # none of the three is there: add, not set (no search)
        headers.add("X-RateLimit-Limit", str(amount))
        headers.add("X-RateLimit-Remaining", str(remaining))
        headers.add("X-RateLimit-Reset", str(reset))
    return response


def only_429_retries(response, request, g):
    """flask-limiter adds Retry-After to every limited response; only a 429 (or a 503
    that set its own) should tell a client to back off. A view that asks for a polling
    interval (a 202 of an async job) sets `g.retry_after`, and that value is sent."""
    if g.get("retry_after") is not None:
        response.headers["Retry-After"] = str(g.retry_after)
    elif response.status_code not in (429, 503):
        response.headers.remove("Retry-After")  # werkzeug's lookups raise (and catch) when absent; this does not
    return response


def check_named_limits():
    """Before each page: flask-limiter's own check of the limits declared for it (the pages'
    blueprint budget). API routes with a named budget check it in their decorator."""
    limiter._check_request_limit()


def _limiter_checked():
    """Whether flask-limiter checked a limit in this request (it keeps its state on the
    request context from its first check on)."""
    return hasattr(request_ctx, "_limiter_request_context")


def named_limit_headers(response, request, g):
    """flask-limiter's after-request step (its headers, and the `deduct_when` budgets that
    count only some answers), in requests where it checked a limit."""
    if _limiter_checked():
        response = current_app.extensions["avycenna_limiter_hooks"][0](response)
    return response


def end_named_limits(exc):
    if _limiter_checked():
        current_app.extensions["avycenna_limiter_hooks"][1](exc)


def init_app(app):
    """flask-limiter set up for this app, its three hooks taken over: its before-request check
    resolves every limit of every request, so it runs only before the pages
    (`check_named_limits`) and in the decorated views; its after-request and teardown steps
    run only where it checked something. Call after `pipeline.init_app`. The hooks are
    flask-limiter's private names: kept because its check on every request costs 24-55 % of
    one (docs/performance.md#private-names); tests/test_private_names.py pins them."""
    # The limiter is module-level (views decorate with it) but each app has its own
    # storage and key prefix; flask-limiter keeps the first prefix it saw otherwise.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**redis_options(app.config),
                                                   **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    limiter.init_app(app)
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    inject, release = app.after_request_funcs[None].pop(), app.teardown_request_funcs[None].pop()
    if getattr(inject, "func", None) is not getattr(Limiter, "_Limiter__inject_headers") \
            or release != limiter._Limiter__release_context:
        raise RuntimeError("flask-limiter's hooks are not where this version keeps them")
    app.teardown_request(end_named_limits)
    app.extensions["avycenna_limiter_hooks"] = (inject, release)
    app.extensions["avycenna_budgets"] = Budgets(limiter.storage, app.config["RATELIMIT_KEY_PREFIX"])


def ip_key():
    """The client's IP, as a salted hash: raw addresses never reach the limit storage."""
    return "ip:" + ip_hash()


def never_raises(key_func):
    """A named budget's key function as flask-limiter may call it: one that cannot fail.

    flask-limiter takes any exception in a key function for its storage failing: it logs
    "Rate limit storage unreachable", counts in process memory from then on (on Redis, the
    shared budgets split into one per process) and tries again, so the request still fails.
    Key functions read only what cannot fail (a body through `jsonbody.request_body_or_none`);
    should one fail all the same, the request is keyed on the client's address, which still
    spends a budget, and the failure is logged by name (no request data)."""
    @functools.wraps(key_func)
    def key():
        try:
            return key_func()
        except Exception as error:
            log.error("rate-limit key %s failed (%s); keyed on the client's address",
                      key_func.__name__, type(error).__name__)
            return "unkeyed:" + ip_key()
    return key


def config_limit(name):
    """A limit read from the config at request time (so each app can set its own)."""
    return lambda: current_app.config[name]
