"""`python app.py`: upgrade the database, then serve with waitress until SIGTERM, then drain."""
import argparse
import errno
import gc
import logging
import os
import signal
import sys
import time

from waitress import create_server, wasyncore

from avycenna import instancelock, jobs, logs, readiness
from avycenna.migrate import upgrade


def parse_args(app, argv=None):
    parser = argparse.ArgumentParser(description="Serve the AVYCENNA API with waitress.")
    parser.add_argument("--host", default=app.config["HOST"])
    parser.add_argument("--port", type=int, default=int(app.config["PORT"]))
    parser.add_argument("--threads", type=int, default=int(app.config["THREADS"]))
    return parser.parse_args(argv)


def largest_body(app):
    """waitress's own body limit: `MAX_REQUEST_BODY_SIZE` (what the largest route needs, the
    wearable batch). A request whose Content-Length is over it is answered 413 by waitress
    itself, in plain text, before one byte of its body is read; within it, each route keeps its
    own smaller limit (the API's JSON 413). waitress refuses a body of exactly its limit, so
    it is given one byte more."""
    return int(app.config["MAX_REQUEST_BODY_SIZE"]) + 1


QUEUE_WARNING_EVERY = 60.0  # seconds between waitress's "Task queue depth" warnings


def main(app, argv=None):
    args = parse_args(app, argv)
    logging.basicConfig()
    socket_map = {}  # waitress's socket map, kept for the drain's own loop
    server = listen(app, args, socket_map)  # first: a busy port is reported before anything else is touched
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
    drain = Drain(server, socket_map, float(app.config["DRAIN_SECONDS"]))
    signal.signal(signal.SIGTERM, drain.on_sigterm)
    try:
        server.print_listen("Serving on http://{}:{}")
        drain.serve()
    except KeyboardInterrupt:  # Ctrl-C: as waitress's own run() ends
        server.task_dispatcher.shutdown()
    finally:  # a second SIGTERM's SystemExit passes through, its jobs interrupted
        if consumer is not None:
            consumer.stop(graceful=not drain.forced)
        os.close(lock)


def spare_queue_warnings(dispatcher):
    dispatcher.queue_logger = logs.OncePerPeriod(dispatcher.queue_logger, QUEUE_WARNING_EVERY)


def proxy_headers(app):
    """Behind `TRUSTED_PROXIES` proxies, werkzeug's ProxyFix (see create_app) reads the last
    hops of X-Forwarded-For/-Proto/-Host; waitress must hand those headers on instead of
    clearing them as untrusted, which it does by default."""
    return {"clear_untrusted_proxy_headers": False} if int(app.config["TRUSTED_PROXIES"]) else {}


def listen(app, args, socket_map=None):
    """waitress bound to host:port; an address already in use (or not ours) is one clear line."""
    try:
        return create_server(app, map={} if socket_map is None else socket_map, host=args.host,
                             port=args.port, threads=args.threads, ident="avycenna",
                             max_request_body_size=largest_body(app), **proxy_headers(app))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            sys.exit(f"AVYCENNA cannot listen on {args.host}:{args.port}: the port is already in use "
                     f"(another server is running?). Stop it, or choose another with --port.")
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            sys.exit(f"AVYCENNA cannot listen on {args.host}:{args.port}: {exc.strerror}.")
        raise


class Drain:
    """waitress's loop, with a graceful end on SIGTERM.

    SIGTERM: the process reports itself unready at once (`/health/ready` answers 503, so a
    load balancer moves traffic away) and goes on serving for `DRAIN_SECONDS`, the time a
    load balancer takes to notice; then it closes its listening socket (new connections are
    refused) and gives the requests still in flight — received, running or being sent —
    up to `DRAIN_SECONDS` more to finish, and exits. A second SIGTERM exits at once.
    """

    STEP = 0.1  # seconds between checks while draining

    def __init__(self, server, socket_map, seconds):
        self.server = server
        self.map = socket_map
        self.seconds = max(seconds, 0.0)
        self.requested_at = None
        self.forced = False

    def on_sigterm(self, signum, frame):
        if self.requested_at is not None:
            self.forced = True
            raise SystemExit(128 + signum)
        self.requested_at = time.monotonic()
        readiness.start_draining()
        self.server.pull_trigger()  # wake the loop now (a pipe write; takes no lock)

    def loop_once(self, timeout):
        wasyncore.loop(timeout=timeout, map=self.map, use_poll=self.server.adj.asyncore_use_poll, count=1)

    def serve(self):
        """Serve until SIGTERM, then drain; returns once drained."""
        while self.requested_at is None:
            self.loop_once(self.server.adj.asyncore_loop_timeout)
        log = logging.getLogger("avycenna")
        log.info("SIGTERM: unready; serving for %gs more, then finishing requests in flight", self.seconds)
        while time.monotonic() < self.requested_at + self.seconds:
            self.loop_once(self.STEP)
        self.stop_accepting()
        finish_by = time.monotonic() + self.seconds
        while self.in_flight() and time.monotonic() < finish_by:
            self.loop_once(self.STEP)
        if self.in_flight():
            log.warning("drain: requests still in flight after %gs; exiting", self.seconds)
        self.server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(self.map)

    def stop_accepting(self):
        """Close the listening socket; open connections (and their trigger) stay."""
        self.server.accepting = False
        self.server.del_channel()
        self.server.socket.close()

    def in_flight(self):
        """Whether a request is queued or running, or a connection is mid-request or mid-response."""
        tasks = self.server.task_dispatcher
        if tasks.queue or tasks.active_count:
            return True
        return any(channel.requests or channel.total_outbufs_len or channel.request is not None
                   for channel in list(self.server.active_channels.values()))
