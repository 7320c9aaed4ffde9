"""Every library-private name the code still uses, pinned: an upgrade that changes one fails here,
loudly, instead of slowing or breaking the server in silence.

Each was kept because `python -m bench.private_names` shows it saves 5 % or more of a request
(docs/performance.md says how much); the ones that saved less were removed.
"""
import threading

import pytest
from flask import Flask, g, request


def test_werkzeug_proxies_still_hand_out_the_object_behind_them(app):
    """avycenna/pipeline.py hands each step `request._get_current_object()` and
    `g._get_current_object()`: 9-16 % of a request less than reading through the proxies."""
    from flask.ctx import _AppCtxGlobals

    from avycenna import pipeline

    with app.test_request_context("/health"):
        assert isinstance(request._get_current_object(), app.request_class)
        assert isinstance(g._get_current_object(), _AppCtxGlobals)
        assert request._get_current_object() is request._get_current_object()
    assert app.before_request_funcs[None][0] is pipeline.before_request
    assert pipeline.after_request in app.after_request_funcs[None]


def test_limits_memory_storage_still_schedules_its_sweep_through_the_mangled_name():
    """avycenna/ratelimit.py's MemoryStorage replaces limits' per-hit timer thread by
    overriding `_MemoryStorage__schedule_expiry` (4-6 % of an authenticated request in
    process, more under load). If limits renames it, the override silently stops applying and
    every hit starts a thread again: this test sees that thread."""
    from limits.storage import MemoryStorage as LimitsMemory

    from avycenna.ratelimit import MemoryStorage

    assert callable(LimitsMemory.__dict__["_MemoryStorage__schedule_expiry"])
    assert callable(LimitsMemory.__dict__["_MemoryStorage__expire_events"])
    storage = MemoryStorage()
    storage.timer.join(1)  # limits' __init__ starts one sweep timer itself
    before = {t for t in threading.enumerate() if isinstance(t, threading.Timer)}
    for i in range(50):
        storage.incr(f"k{i}", 60)
        storage.acquire_entry(f"w{i}", 5, 60)
    started = {t for t in threading.enumerate() if isinstance(t, threading.Timer)} - before
    assert not started, "limits started its per-hit timer thread: the override no longer applies"
    # and the sweep still runs, from the hits themselves
    storage.incr("short", 0.01)
    MemoryStorage.SWEEP_EVERY, saved = 0.0, MemoryStorage.SWEEP_EVERY
    try:
        threading.Event().wait(0.05)
        storage.incr("other", 60)
        assert storage.get("short") == 0
    finally:
        MemoryStorage.SWEEP_EVERY = saved


def test_flask_limiter_hooks_and_prefix_are_where_ratelimit_takes_them(app, client):
    """avycenna/ratelimit.py takes flask-limiter's three hooks off every request (its
    before-request check resolves every limit of every request) and runs them only where a
    named limit applies, and sets the module-level limiter's key prefix per app."""
    from flask.globals import request_ctx
    from flask_limiter import Limiter

    from avycenna.ratelimit import limiter

    assert callable(Limiter._check_request_limit)
    assert callable(getattr(Limiter, "_Limiter__inject_headers"))
    assert callable(getattr(Limiter, "_Limiter__release_context"))
    assert limiter._key_prefix == app.config["RATELIMIT_KEY_PREFIX"]
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    with app.test_request_context("/"):
        assert not hasattr(request_ctx, "_limiter_request_context")
        limiter._check_request_limit()  # a page's named check
        assert hasattr(request_ctx, "_limiter_request_context")


@pytest.mark.parametrize("removed", ["ensure_sync cache"])
def test_shortcuts_that_saved_under_5_percent_are_gone(app, removed):
    """Flask's own `ensure_sync` again: caching its answer saved under 3 %."""
    assert type(app) is Flask


def test_peewee_cursor_wrapper_still_turns_prepared_rows_into_models(app, make_user, key_for):
    """avycenna/db.py's `Prepared` runs the per-request lookups (the caller's account, their
    API key with its owner) from SQL compiled once, through the query's own
    `_get_cursor_wrapper`, keeping the wrapper (`initialized`, `process_row`) after the first
    row: 79-117 % of an authenticated request without it. Same rows as the plain query."""
    from peewee import BaseModelCursorWrapper, ModelObjectCursorWrapper, Select

    from avycenna.api_keys.models import ApiKey
    from avycenna.api_keys.service import KEY_WITH_OWNER, hash_key
    from avycenna.auth.users import USER_BY_ID
    from avycenna.db import database

    assert callable(Select._get_cursor_wrapper)
    assert callable(BaseModelCursorWrapper.process_row) and callable(ModelObjectCursorWrapper.process_row)
    user = make_user()
    key = key_for(user)["X-API-Key"]
    with app.app_context(), database.obj.connection_context():
        for _ in range(2):  # the first run sets the wrapper up, the second reuses it
            found = USER_BY_ID.first(user.id)
            assert (found.id, found.email, found.role) == (user.id, user.email, user.role)
            row = KEY_WITH_OWNER.first(hash_key(key))
            plain = ApiKey.select().where(ApiKey.key_hash == hash_key(key)).get()
            assert row.id == plain.id and row.user.id == user.id and row.user.email == user.email
            assert "user" in row.__rel__  # the owner came from the join, not a second query
        assert USER_BY_ID.first("usr_nobody") is None


def test_peewee_pool_still_checks_connections_through_the_hooks_postgres_pool_overrides():
    """avycenna/db.py's PostgresPool skips peewee's `SELECT 1` at check-out for a connection
    back in the pool within a second, by overriding the pool's `_is_closed` and `_close`."""
    import inspect

    from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

    from avycenna.db import PostgresPool

    assert list(inspect.signature(PooledDatabase._close).parameters) == ["self", "conn", "close_conn"]
    assert list(inspect.signature(PooledPostgresqlDatabase._is_closed).parameters) == ["self", "conn"]
    assert "self._is_closed(conn)" in inspect.getsource(PooledDatabase._connect)
    assert {"_is_closed", "_close"} <= set(vars(PostgresPool))
