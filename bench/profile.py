"""`python -m bench.profile [jwt|key|health] [N] [postgresql://…]`: cProfile over N requests (default 2,000)
through the WSGI app in-process (no sockets), printing the top functions by own and
cumulative time. Where the per-request time goes, before tuning anything."""
import cProfile
import logging
import pstats
import sys
import tempfile

from werkzeug.test import EnvironBuilder

from bench.overhead import LIMIT, credentials
from bench.setup import make_instance


def main(kind="jwt", count=2000, database_url=None):
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as instance:
        app, _, key = make_instance(instance, database_url)
        app.config.update(RATELIMIT_JWT=LIMIT, RATELIMIT_API_KEY=LIMIT, RATELIMIT_ANONYMOUS=LIMIT)
        token, key = credentials(app, key)
        path, headers = {"jwt": ("/api/v1/auth/me", {"Authorization": "Bearer " + token}),
                         "key": ("/api/v1/auth/me", {"X-API-Key": key}),
                         "health": ("/health", {})}[kind]
        environ = EnvironBuilder(path=path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()

        def call():
            body = app.wsgi_app(dict(environ), lambda status, headers, exc_info=None: None)
            b"".join(body)
            getattr(body, "close", lambda: None)()

        for _ in range(50):
            call()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            call()
        profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"{count} requests, {stats.total_tt / count * 1e6:.0f} µs each (profiled)")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["jwt"]), *[int(n) for n in sys.argv[2:3]], *sys.argv[3:4])
