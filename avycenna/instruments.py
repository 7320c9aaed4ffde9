"""The server's Prometheus instruments (prometheus_client), counted where things happen.

`GET /metrics` (`avycenna.metrics`) shows them with the gauges it reads when it is
scraped. Labels name routes by their template (`/api/v1/patients/<uuid:patient_id>`,
never the path a caller sent), methods, statuses, jobs and outcomes: never a person,
a patient, an id or anything a person wrote.

With `PROMETHEUS_MULTIPROC_DIR` set in the environment before the process starts,
prometheus_client keeps every process's values in files there and `/metrics` adds them
up (its multiprocess mode): several `python app.py` and `flask --app app worker`
processes on one host then show as one.
"""
import atexit
import os
import time

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from avycenna.db import pool_use

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
disable_created_metrics()  # no `_created` series beside every counter: half the output, no use here
# Anything else a client may send as a method is counted under one name.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
UNMATCHED = "(unmatched)"  # a request no route matched (a 404 or 405): its path is not a label

http_requests = Counter(
    "avycenna_http_requests", "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"))
http_request_duration = Histogram(
    "avycenna_http_request_duration_seconds",
    "Time from the start of a request's processing to its response, by route template and method.",
    ("route", "method"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
ratelimit_refusals = Counter(
    "avycenna_ratelimit_refusals", "Requests refused with 429 by a rate limit, by route template.",
    ("route",))
auth_failures = Counter(
    "avycenna_auth_failures",
    "Requests answered 401, by route template and caller: `invalid` (a credential that is not "
    "valid), `anonymous` (none, or a failed sign-in), `user`, `api_key` or `encounter`.",
    ("route", "caller"))
job_events = Counter(
    "avycenna_job_events",
    "Background job events, by job and event: queued, running, completed, failed, retried, and "
    "huey's other events (scheduled, revoked, expired, canceled, interrupted, …).",
    ("job", "event"))
webhook_attempts = Counter(
    "avycenna_webhook_delivery_attempts",
    "Webhook delivery attempts by outcome: delivered, retrying (a retry is scheduled), failed "
    "(the last attempt failed).",
    ("outcome",))
ratelimit_fallbacks = Counter(
    "avycenna_ratelimit_fallbacks",
    "Times a process began counting the per-credential budgets in its own memory because the "
    "shared rate-limit storage (Redis) did not answer; it tries Redis again a few seconds later.")
job_enqueue_failures = Counter(
    "avycenna_job_enqueue_failures",
    "Jobs that could not be put on the queue (Redis unreachable), by job: their work waits in "
    "the database for a sweep.",
    ("job",))
db_pool_connections = Gauge(
    "avycenna_db_pool_connections",
    "Database connections of the serving processes' pools, in use or idle (as the last request "
    "of each process left them, that request's own connection counted as in use).",
    ("state",), multiprocess_mode="livesum")

# huey's signal names, and the state names the metrics use for them.
JOB_EVENTS = {"enqueued": "queued", "executing": "running", "complete": "completed", "error": "failed",
              "retrying": "retried"}

_requests = {}  # (route, method, status) -> counter child: labels() takes a lock and builds a key
_durations = {}  # (route, method) -> histogram child


def start_timer(request, g):
    """Before every request (`avycenna.pipeline`), first: when its processing began."""
    g.started = time.perf_counter()


def count_request(response, request, g):
    """After every request (`avycenna.pipeline`), last: its count, duration, and whether it was
    a rate-limit refusal or an authentication failure; the pool's use as it leaves it."""
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "OTHER"
    status = response.status_code
    key = (route, method, status)
    counter = _requests.get(key)
    if counter is None:
        counter = _requests[key] = http_requests.labels(route, method, str(status))
    counter.inc()
    started = g.get("started")
    if started is not None:
        timer = _durations.get(key[:2])
        if timer is None:
            timer = _durations[key[:2]] = http_request_duration.labels(route, method)
        timer.observe(time.perf_counter() - started)
    if status == 429:
        ratelimit_refusals.labels(route).inc()
    elif status == 401:
        actor = g.get("actor")
        caller = "invalid" if g.get("auth_error") else (actor.kind if actor is not None else "anonymous")
        auth_failures.labels(route, caller).inc()
    record_pool_use()
    return response


_pool_in_use, _pool_idle = db_pool_connections.labels("in_use"), db_pool_connections.labels("idle")


def record_pool_use():
    in_use, idle = pool_use()
    _pool_in_use.set(in_use)
    _pool_idle.set(idle)


def count_job(signal, task, exc=None):
    """A huey signal handler (`avycenna.jobs` connects it): one event of one job."""
    job_events.labels(task.name, JOB_EVENTS.get(signal, signal)).inc()


def count_webhook_attempt(outcome):
    webhook_attempts.labels(outcome).inc()


def count_ratelimit_fallback():
    ratelimit_fallbacks.inc()


def count_enqueue_failure(job):
    job_enqueue_failures.labels(job).inc()


def _forget_this_process():
    """At exit: this process's live gauges (the pool's use) leave the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())


if MULTIPROCESS_DIR:
    atexit.register(_forget_this_process)
