"""`python app.py`: upgrade the database, then serve with waitress."""
import argparse
import errno
import gc
import logging
import os
import sys

from waitress import create_server

from avycenna import instancelock, jobs, logs
from avycenna.migrate import upgrade


def parse_args(app, argv=None):
    parser = argparse.ArgumentParser(description="Serve the AVYCENNA API with waitress.")
    parser.add_argument("--host", default=app.config["HOST"])
    parser.add_argument("--port", type=int, default=int(app.config["PORT"]))
    parser.add_argument("--threads", type=int, default=int(app.config["THREADS"]))
    return parser.parse_args(argv)


def largest_body(app):
    """waitress's own body limit (1 GB by default) must not cut an export upload short; each
    endpoint keeps its own limit. waitress spools a large body to a temporary file, not memory."""
    return max(app.config["MAX_CONTENT_LENGTH"], app.config["WEARABLES_MAX_CONTENT_LENGTH"],
               app.config["IMPORTS_MAX_CONTENT_LENGTH"]) + 1024 * 1024  # multipart framing


QUEUE_WARNING_EVERY = 60.0  # seconds between waitress's "Task queue depth" warnings


def main(app, argv=None):
    args = parse_args(app, argv)
    logging.basicConfig()
    server = listen(app, args)  # first: a busy port is reported before anything else is touched
    # Under load waitress warns on every request that waits for a thread; one a minute says it.
    spare_queue_warnings(server.task_dispatcher)
    try:  # held shared while serving: `flask restore` is refused until the server stops
        lock = instancelock.hold_shared(app.instance_path)
    except instancelock.InstanceBusy as exc:
        sys.exit(f"AVYCENNA cannot start: {exc}.")
    with app.app_context():
        applied = upgrade()
    log = logging.getLogger("avycenna")
    if applied:
        log.info("database upgraded: %s", ", ".join(applied))
    base = f"http://{args.host}:{args.port}"
    print(f"AVYCENNA serving on {base}  (docs: {base}/docs  redoc: {base}/redoc  "
          f"health: {base}/health; data in {app.instance_path})", flush=True)
    consumer = jobs.start_embedded_consumer(app) if jobs.embedded(app) else None
    if consumer is None:
        log.info("background jobs run in separate workers: flask --app app worker")
    # Everything made so far (modules, the app, its routes and schemas) lives as long as the
    # process: out of the garbage collector's sight, its full collections stay short.
    gc.freeze()
    try:
        server.print_listen("Serving on http://{}:{}")
        server.run()
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        os.close(lock)


def spare_queue_warnings(dispatcher):
    dispatcher.queue_logger = logs.OncePerPeriod(dispatcher.queue_logger, QUEUE_WARNING_EVERY)


def proxy_headers(app):
    """Behind `TRUSTED_PROXIES` proxies, werkzeug's ProxyFix (see create_app) reads the last
    hops of X-Forwarded-For/-Proto/-Host; waitress must hand those headers on instead of
    clearing them as untrusted, which it does by default."""
    return {"clear_untrusted_proxy_headers": False} if int(app.config["TRUSTED_PROXIES"]) else {}


def listen(app, args):
    """waitress bound to host:port; an address already in use (or not ours) is one clear line."""
    try:
        return create_server(app, host=args.host, port=args.port, threads=args.threads, ident="avycenna",
                             max_request_body_size=largest_body(app), **proxy_headers(app))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            sys.exit(f"AVYCENNA cannot listen on {args.host}:{args.port}: the port is already in use "
                     f"(another server is running?). Stop it, or choose another with --port.")
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            sys.exit(f"AVYCENNA cannot listen on {args.host}:{args.port}: {exc.strerror}.")
        raise
