"""The background job queues: huey, embedded on SQLite or shared through Redis.

Two queues, each with workers of its own, so no one waits behind someone else:

- `default`: webhook deliveries, housekeeping, the sweeps and every other short job;
- `bulk`: the long ones, Apple Health imports and FHIR bulk exports.

A two-hour import holds a bulk worker, never a delivery's. Between accounts, imports take
turns: an account runs one import at a time (the database refuses a second `running` one,
see `avycenna.imports.service`), so with two or more bulk workers another account's import
starts while a large one runs, and one account's tenth upload waits behind its own first,
not in front of anyone else's.

- Small clinic: no `QUEUE_URL`; jobs are stored in `instance/jobs.sqlite3` (default) and
  `instance/jobs-bulk.sqlite3` (bulk), and `python app.py` runs both queues' workers
  (QUEUE_WORKERS and QUEUE_BULK_WORKERS threads) inside the server process.
- Larger practice: `QUEUE_URL=redis://…`; every server process enqueues into Redis and
  `flask --app app worker [--queue default|bulk|all]` runs as many separate worker
  processes as you like.

Write a job as a module-level function and decorate it::

    from avycenna import jobs

    @jobs.task(retries=3, retry_delay=10)          # the default queue
    def deliver(delivery_id):
        ...                      # runs inside an app context with a database connection

    @jobs.task(queue="bulk")                         # minutes or hours of work
    def run_import(import_id):
        ...

    deliver(delivery_id)         # enqueue (returns at once); deliver.schedule((id,), delay=60)

Rules for jobs:
- Enqueue *after* the write transaction that created the job's rows has committed
  (outside the `with write_transaction():` block), or a worker may look before the row
  is visible.
- A job's arguments are ids, never patient data: the queue is not the audit trail.
- huey takes a job off the queue when a worker starts it, so a job that was running
  when the process was killed is not run again by huey. Work that must survive that
  keeps its own state row and a `periodic_task` sweep re-enqueues what is stale;
  jobs are written to be safe to run twice.
- Periodic jobs and startup hooks live on the default queue (its consumer runs the
  scheduler); a bulk job is enqueued by them, never scheduled on its own.
"""
import logging
import os
import threading
from functools import wraps

from huey import Huey, crontab
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from redis import ConnectionPool

from avycenna.instruments import count_enqueue_failure, count_job

log = logging.getLogger("avycenna")

# One huey per queue for the process. Their storage is chosen by `init_app` (like the deferred
# database): tasks register on them at import time, before any app exists.
huey = Huey("avycenna", results=False, utc=True, storage_class=MemoryStorage)
bulk = Huey("avycenna-bulk", results=False, utc=True, storage_class=MemoryStorage)
QUEUES = {"default": huey, "bulk": bulk}
for _queue in QUEUES.values():  # every job's events, counted for /metrics (in the process they happen in)
    _queue.signal()(count_job)
_app = {"app": None}
_after_each = []  # hook(g), run after every job that returned, in its app context
_after_outage = []  # jobs (sweeps) to enqueue once the queue answers again after an enqueue failed
_missed = threading.Event()  # an enqueue failed in this process since the last one that worked
READ_TIMEOUT = 1  # seconds a worker's blocking read of the queue waits for a job (huey's default)

__all__ = ["QUEUES", "after_each_job", "after_outage", "bulk", "crontab", "enqueue_safely", "huey", "init_app",
           "pending_count", "pending_counts", "periodic_task", "setting", "start_embedded_consumer", "task"]


def _in_app_context(func):
    """Run `func` inside the app's context with a database connection."""
    @wraps(func)
    def run(*args, **kwargs):
        from avycenna.db import database

        app = _app["app"]
        if app is None:
            raise RuntimeError("jobs.init_app(app) has not been called")
        with app.app_context(), database.connection_context():
            result = func(*args, **kwargs)
            from flask import g

            for hook in _after_each:
                hook(g)
            return result
    return run


def after_each_job(hook):
    """Register `hook(g)` to run after every job that returned, inside its app context (as
    an after-request step runs after a request): the webhooks hand the deliveries a job queued
    to the workers this way. Registering one hook twice keeps one."""
    if hook not in _after_each:
        _after_each.append(hook)
    return hook


def task(queue="default", **options):
    """Decorator: a background job on `queue` (`default` or `bulk`) with huey's `task`
    options (retries, retry_delay, …)."""
    def decorator(func):
        return QUEUES[queue].task(**options)(_in_app_context(func))
    return decorator


def periodic_task(schedule, **options):
    """Decorator: a job the default queue's scheduler enqueues on `schedule` (a huey crontab).

    With several consumers each one enqueues it, so periodic jobs must be idempotent.
    """
    def decorator(func):
        return huey.periodic_task(schedule, **options)(_in_app_context(func))
    return decorator


def on_startup(name):
    """Decorator: run when the default queue's workers start (after a restart, say)."""
    return huey.on_startup(name)


def storage_for(app, queue="default"):
    """The storage the app's config names for `queue`: Redis for `redis://…` (the bulk queue
    under `QUEUE_NAME-bulk`), else a SQLite file in instance/ (`jobs.sqlite3`, `jobs-bulk.sqlite3`)."""
    url = app.config.get("QUEUE_URL")
    name = app.config["QUEUE_NAME"] + ("" if queue == "default" else "-" + queue)
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"QUEUE_URL must be a redis:// URL, not {url!r}")
        # REDIS_TIMEOUT bounds a connect and an answer (a worker's blocking read waits up to
        # READ_TIMEOUT for a job on top): an unreachable Redis fails an enqueue fast.
        timeout = float(app.config["REDIS_TIMEOUT"])
        pool = ConnectionPool.from_url(url, socket_connect_timeout=timeout,
                                       socket_timeout=timeout + READ_TIMEOUT)
        return RedisStorage(name, connection_pool=pool, read_timeout=READ_TIMEOUT)
    path = os.path.join(app.instance_path, "jobs.sqlite3" if queue == "default" else f"jobs-{queue}.sqlite3")
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    # No fsync per enqueue (WAL, synchronous=NORMAL): a crash of the process loses nothing,
    # a power cut may lose the last enqueues, and the sweeps re-enqueue those from the rows
    # the work keeps in the database (see the module docstring). An fsync here doubled the
    # cost of a request that queues a webhook delivery (bench/webhooks.py).
    return SqliteStorage(name, filename=path, fsync=False, timeout=10)


def init_app(app):
    """Point the queues at this app's storage; jobs then run in this app's context."""
    for queue, instance in QUEUES.items():
        if instance.storage is not None and not isinstance(instance.storage, MemoryStorage):
            try:
                instance.storage.close()
            except Exception:  # a storage already gone has nothing to close
                pass
        instance.storage = storage_for(app, queue)
    _app["app"] = app
    app.extensions["jobs"] = huey


def enqueue_safely(job, *args):
    """Enqueue `job(*args)`; if the queue cannot be reached, log it and return False.

    For jobs whose state lives in the database and a periodic sweep re-enqueues:
    a queue outage then delays the work instead of failing the request. The first enqueue
    that works again in this process also enqueues the `after_outage` sweeps, so what was
    left behind goes out then, not at the next periodic sweep.
    """
    try:
        job(*args)
    except Exception as exc:
        name = job.task_class.__name__  # as huey names its tasks (the wrapper's `name` is None)
        log.warning("job queue unreachable, %s left for the next sweep (%s)", name, type(exc).__name__)
        count_enqueue_failure(name)
        _missed.set()
        return False
    if _missed.is_set():
        _missed.clear()
        for sweep in _after_outage:
            try:
                sweep()
            except Exception:  # gone again: the next enqueue that works tries again
                _missed.set()
    return True


def after_outage(job):
    """Decorator (below `@periodic_task`): enqueue this sweep when the queue answers again
    after an enqueue in this process failed."""
    _after_outage.append(job)
    return job


def setting(name):
    """A setting of the app the jobs run for (hooks that run outside its context read it here)."""
    return _app["app"].config[name]


def pending_counts():
    """{queue: jobs waiting in it} (for /metrics)."""
    return {queue: instance.pending_count() for queue, instance in QUEUES.items()}


def pending_count():
    """How many jobs wait in the queues, all together (for the admin status page and readiness)."""
    return sum(pending_counts().values())


class EmbeddedConsumer(Consumer):
    """huey's consumer without signal handlers: the server process (waitress) owns those."""

    def _set_signal_handlers(self):
        pass


def make_consumer(workers, queue="default"):
    """A consumer of `queue` with `workers` threads (the default queue's also runs the scheduler)."""
    return EmbeddedConsumer(QUEUES[queue], workers=workers, worker_type="thread", periodic=queue == "default",
                            check_worker_health=False, initial_delay=0.05, max_delay=1.0,
                            shutdown_timeout=10)


class Consumers:
    """Several queues' consumers started and stopped as one."""

    def __init__(self, consumers):
        self.consumers = consumers

    def start(self):
        for consumer in self.consumers:
            consumer.start()
        return self

    def stop(self, graceful=False):
        for consumer in self.consumers:  # every one told first, then each waited for
            consumer.stop_flag.set()
        for consumer in self.consumers:
            consumer.stop(graceful=graceful)


def worker_counts(app, queue="all", workers=None):
    """{queue: threads} for `queue` (`default`, `bulk` or `all`): `workers` each if given, else
    QUEUE_WORKERS for the default queue and QUEUE_BULK_WORKERS for the bulk one."""
    settings = {"default": "QUEUE_WORKERS", "bulk": "QUEUE_BULK_WORKERS"}
    names = list(QUEUES) if queue == "all" else [queue]
    return {name: workers or int(app.config[settings[name]]) for name in names}


def make_consumers(app, queue="all", workers=None):
    """Consumers of `queue` (or both), not started: `.start()`, then `.stop(graceful=True)`."""
    return Consumers([make_consumer(n, name) for name, n in worker_counts(app, queue, workers).items()])


def embedded(app):
    """Whether `python app.py` runs the consumers itself (default: when no QUEUE_URL)."""
    value = app.config.get("QUEUE_EMBEDDED")
    if value is None:
        return not app.config.get("QUEUE_URL")
    return str(value).lower() not in ("0", "false", "no", "off", "")


def start_embedded_consumer(app):
    """Start both queues' worker threads in this process; returns them (call `.stop(graceful=True)`)."""
    return make_consumers(app).start()


def run_worker(counts):
    """`flask --app app worker`: consumers of the queues in `counts` ({queue: threads}) with huey's
    own signal handling, until stopped. The default queue's consumer (or else the only one) runs
    in the foreground and owns the signals; the other runs beside it and stops with it."""
    names = list(counts)
    main = names[0]
    others = [make_consumer(counts[name], name) for name in names[1:]]
    for consumer in others:
        consumer.start()
    try:
        # after a queue outage, reading again within a second
        Consumer(QUEUES[main], workers=counts[main], worker_type="thread", periodic=main == "default",
                 initial_delay=0.05, max_delay=1.0).run()
    finally:
        Consumers(others).stop(graceful=True)
