"""The background job queue: huey, embedded on SQLite or shared through Redis.

One queue serves every kind of background work (webhook deliveries, imports, exports).

- Small clinic: no `QUEUE_URL`; jobs are stored in `instance/jobs.sqlite3` and
  `python app.py` runs a consumer (worker threads) inside the server process.
- Larger practice: `QUEUE_URL=redis://…`; every server process enqueues into Redis and
  `flask --app app worker` runs as many separate worker processes as you like.

Write a job as a module-level function and decorate it::

    from avycenna import jobs

    @jobs.task(retries=3, retry_delay=10)
    def deliver(delivery_id):
        ...                      # runs inside an app context with a database connection

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

# One huey for the process. Its storage is chosen by `init_app` (like the deferred
# database): tasks register on it at import time, before any app exists.
huey = Huey("avycenna", results=False, utc=True, storage_class=MemoryStorage)
huey.signal()(count_job)  # every job's events, counted for /metrics (in the process they happen in)
_state = threading.local()
_app = {"app": None}
_after_outage = []  # jobs (sweeps) to enqueue once the queue answers again after an enqueue failed
_missed = threading.Event()  # an enqueue failed in this process since the last one that worked
READ_TIMEOUT = 1  # seconds a worker's blocking read of the queue waits for a job (huey's default)

__all__ = ["after_outage", "crontab", "enqueue_safely", "huey", "init_app", "pending_count",
           "periodic_task", "setting", "start_embedded_consumer", "task"]


def _in_app_context(func):
    """Run `func` inside the app's context with a database connection."""
    @wraps(func)
    def run(*args, **kwargs):
        from avycenna.db import database

        app = _app["app"]
        if app is None:
            raise RuntimeError("jobs.init_app(app) has not been called")
        with app.app_context(), database.connection_context():
            return func(*args, **kwargs)
    return run


def task(**options):
    """Decorator: a background job (huey's `task` options: retries, retry_delay, …)."""
    def decorator(func):
        return huey.task(**options)(_in_app_context(func))
    return decorator


def periodic_task(schedule, **options):
    """Decorator: a job the consumer's scheduler enqueues on `schedule` (a huey crontab).

    With several consumers each one enqueues it, so periodic jobs must be idempotent.
    """
    def decorator(func):
        return huey.periodic_task(schedule, **options)(_in_app_context(func))
    return decorator


def storage_for(app):
    """The storage the app's config names: Redis for `redis://…`, else SQLite in instance/."""
    url = app.config.get("QUEUE_URL")
    name = app.config["QUEUE_NAME"]
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"QUEUE_URL must be a redis:// URL, not {url!r}")
        # REDIS_TIMEOUT bounds a connect and an answer (a worker's blocking read waits up to
        # READ_TIMEOUT for a job on top): an unreachable Redis fails an enqueue fast.
        timeout = float(app.config["REDIS_TIMEOUT"])
        pool = ConnectionPool.from_url(url, socket_connect_timeout=timeout,
                                       socket_timeout=timeout + READ_TIMEOUT)
        return RedisStorage(name, connection_pool=pool, read_timeout=READ_TIMEOUT)
    path = os.path.join(app.instance_path, "jobs.sqlite3")
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    # No fsync per enqueue (WAL, synchronous=NORMAL): a crash of the process loses nothing,
    # a power cut may lose the last enqueues, and the sweeps re-enqueue those from the rows
    # the work keeps in the database (see the module docstring). An fsync here doubled the
    # cost of a request that queues a webhook delivery (bench/webhooks.py).
    return SqliteStorage(name, filename=path, fsync=False, timeout=10)


def init_app(app):
    """Point the queue at this app's storage; jobs then run in this app's context."""
    if huey.storage is not None and not isinstance(huey.storage, MemoryStorage):
        try:
            huey.storage.close()
        except Exception:  # a storage already gone has nothing to close
            pass
    huey.storage = storage_for(app)
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


def pending_count():
    """How many jobs wait in the queue (for the admin status page)."""
    return huey.pending_count()


class EmbeddedConsumer(Consumer):
    """huey's consumer without signal handlers: the server process (waitress) owns those."""

    def _set_signal_handlers(self):
        pass


def make_consumer(workers):
    return EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=True,
                            check_worker_health=False, initial_delay=0.05, max_delay=1.0,
                            shutdown_timeout=10)


def embedded(app):
    """Whether `python app.py` runs the consumer itself (default: when no QUEUE_URL)."""
    setting = app.config.get("QUEUE_EMBEDDED")
    if setting is None:
        return not app.config.get("QUEUE_URL")
    return str(setting).lower() not in ("0", "false", "no", "off", "")


def start_embedded_consumer(app):
    """Start worker threads in this process; returns the consumer (call `.stop(graceful=True)`)."""
    consumer = make_consumer(int(app.config["QUEUE_WORKERS"]))
    consumer.start()
    return consumer


def run_worker(workers):
    """`flask --app app worker`: a consumer process with huey's own signal handling."""
    Consumer(huey, workers=workers, worker_type="thread", periodic=True, initial_delay=0.05,
             max_delay=1.0).run()  # after a queue outage, reading again within a second
