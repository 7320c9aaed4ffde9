"""`python -m bench.private_names [N] [pg|sqlite] [cpu|wall]`: what each private-name shortcut still
buys, in process.

Requests go straight through the WSGI app (no sockets, SQLite, or with `pg` a fresh
PostgreSQL database, memory rate limits on), N per case
(default 2,000), timed in CPU seconds of this process (timer threads included) so a busy
neighbour on a shared machine matters less than wall time would. Each variant undoes one
shortcut; rounds interleave the variants, and the median per case is reported as the
variant's cost relative to today's code (+8 % = the shortcut saves 8 %).
"""
import logging
import statistics
import sys
import tempfile
import time

from flask import g, request
from werkzeug.test import EnvironBuilder

from bench.overhead import LIMIT, credentials
from bench.setup import drop_pg_database, make_instance, pg_database

ROUNDS = 5


def variants(app):
    """name → (undo, redo): each flips one shortcut off and back on."""
    from limits.storage import MemoryStorage as LimitsMemory

    from avycenna import pipeline, ratelimit

    def plain_before():
        for step in pipeline.BEFORE:
            step(request, g)

    def plain_after(response):
        for step in pipeline.AFTER:
            response = step(response, request, g)
        return response

    def swap(hooks, old, new):
        hooks[hooks.index(old)] = new

    checks = app.before_request_funcs[None]
    ours = ratelimit.MemoryStorage.__dict__["_MemoryStorage__schedule_expiry"]
    theirs = LimitsMemory.__dict__["_MemoryStorage__schedule_expiry"]
    from playhouse.pool import PooledPostgresqlDatabase

    from avycenna import db

    prepared_first = db.Prepared.first
    flips = {
        "_get_current_object in pipeline": (
            lambda: (swap(app.before_request_funcs[None], pipeline.before_request, plain_before),
                     swap(app.after_request_funcs[None], pipeline.after_request, plain_after)),
            lambda: (swap(app.before_request_funcs[None], plain_before, pipeline.before_request),
                     swap(app.after_request_funcs[None], plain_after, pipeline.after_request))),
        "MemoryStorage sweep": (
            lambda: setattr(ratelimit.MemoryStorage, "_MemoryStorage__schedule_expiry", theirs),
            lambda: setattr(ratelimit.MemoryStorage, "_MemoryStorage__schedule_expiry", ours)),
        # flask-limiter's own before-request check back on every request (as init_app left it)
        "flask-limiter hooks taken over": (lambda: checks.append(ratelimit.limiter._check_request_limit),
                                           lambda: checks.remove(ratelimit.limiter._check_request_limit)),
        # the account and API-key lookups built and run as plain Peewee queries every time
        "Prepared (peewee's cursor wrapper)": (
            lambda: setattr(db.Prepared, "first", lambda self, *params: self._build(*params).first()),
            lambda: setattr(db.Prepared, "first", prepared_first)),
    }
    if isinstance(db.database.obj, db.PostgresPool):
        flips["PostgresPool (peewee's pool hooks)"] = (
            lambda: (setattr(db.PostgresPool, "_is_closed", PooledPostgresqlDatabase._is_closed),
                     setattr(db.PostgresPool, "_close", PooledPostgresqlDatabase._close)),
            lambda: (delattr(db.PostgresPool, "_is_closed"), delattr(db.PostgresPool, "_close")))
    return flips


def main(count=2000, database_url=None, clock="cpu"):
    """`database_url` "pg": a fresh database on the benchmarks' PostgreSQL, dropped after;
    `clock` "wall": wall time, which counts waiting on the database (CPU time does not)."""
    if database_url == "sqlite":
        database_url = None
    if database_url == "pg":
        url = pg_database()
        try:
            return measure(count, url, clock)
        finally:
            drop_pg_database(url)
    return measure(count, database_url, clock)


def measure(count, database_url, clock):
    timer = time.perf_counter if clock == "wall" else time.process_time
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as instance:
        app, _, key = make_instance(instance, database_url)
        app.config.update(RATELIMIT_JWT=LIMIT, RATELIMIT_API_KEY=LIMIT, RATELIMIT_ANONYMOUS=LIMIT)
        token, key = credentials(app, key)
        cases = {"/health": ("/health", {}),
                 "/auth/me JWT": ("/api/v1/auth/me", {"Authorization": "Bearer " + token}),
                 "/auth/me key": ("/api/v1/auth/me", {"X-API-Key": key})}
        environs = {name: EnvironBuilder(path=path, headers=headers,
                                         environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
                    for name, (path, headers) in cases.items()}

        def run(environ):
            start = timer()
            for _ in range(count):
                body = app.wsgi_app(dict(environ), lambda status, headers, exc_info=None: None)
                b"".join(body)
                getattr(body, "close", lambda: None)()
            return timer() - start

        flips = variants(app)
        times = {(v, c): [] for v in ["today", *flips] for c in cases}
        for environ in environs.values():
            run(environ)  # warm up
        for _ in range(ROUNDS):
            for case, environ in environs.items():
                times[("today", case)].append(run(environ))
                for name, (undo, redo) in flips.items():
                    undo()
                    try:
                        times[(name, case)].append(run(environ))
                    finally:
                        redo()
    print(f"{count} requests per case, {ROUNDS} interleaved rounds, {clock} time, median")
    for case in cases:
        base = statistics.median(times[("today", case)])
        print(f"{case}: today {base / count * 1e6:.0f} µs/request")
        for name in flips:
            cost = statistics.median(times[(name, case)]) / base - 1
            print(f"  without {name}: {cost:+.1%}")


if __name__ == "__main__":
    main(*[int(n) for n in sys.argv[1:2]], *sys.argv[2:4])
