"""Gauges read when `/metrics` is scraped: the version, readiness, the durable work
(webhook deliveries, imports, exports) by state with the age of the oldest, import and
export progress, the queue's depth and the pool's size.

Work lives in database rows, so these are the same whichever process is scraped (on
several hosts, aggregate them with `max`, not `sum`). Counts and ages only: no row's id,
owner or content becomes a label.
"""
import logging

from peewee import Case, fn
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

from avycenna import jobs, readiness
from avycenna.clock import utcnow
from avycenna.db import database, is_sqlite
from avycenna.fhir.models import FhirExport
from avycenna.imports.models import WearableImport
from avycenna.webhooks.models import WebhookDelivery

log = logging.getLogger("avycenna")

KINDS = ("webhook_delivery", "import", "export")
STATES = ("queued", "running", "retried", "failed")


def _webhook_rows(now):
    """(state, count, oldest created_at) of the deliveries still to send, and the failed ones."""
    state = Case(None, [
        (WebhookDelivery.status == "failed", "failed"),
        ((WebhookDelivery.lease_until.is_null(False)) & (WebhookDelivery.lease_until > now), "running"),
        (WebhookDelivery.attempts > 0, "retried")], "queued")
    return (WebhookDelivery.select(state, fn.COUNT(WebhookDelivery.id), fn.MIN(WebhookDelivery.created_at))
            .where(WebhookDelivery.status.in_(("pending", "failed"))).group_by(state).tuples())


def _import_rows():
    state = Case(None, [(WearableImport.status != "queued", WearableImport.status),
                        (WearableImport.attempts > 0, "retried")], "queued")
    return (WearableImport.select(state, fn.COUNT(WearableImport.id), fn.MIN(WearableImport.created_at))
            .where(WearableImport.status.in_(("queued", "running", "failed"))).group_by(state).tuples())


def _export_rows():
    state = Case(None, [(FhirExport.status != "queued", FhirExport.status),
                        (FhirExport.attempt > 0, "retried")], "queued")
    return (FhirExport.select(state, fn.COUNT(FhirExport.id), fn.MIN(FhirExport.created_at))
            .where(FhirExport.status.in_(("queued", "running", "failed"))).group_by(state).tuples())


def _age(field, oldest, now):
    oldest = field.python_value(oldest)
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


def work_families():
    """The jobs-by-kind-and-state gauges, with the age of each state's oldest (failed: none)."""
    now = utcnow()
    count = GaugeMetricFamily("avycenna_jobs", "Background work by kind and state (queued, running, "
                              "retried: waiting for another attempt, failed), from the database.",
                              labels=("kind", "state"))
    age = GaugeMetricFamily("avycenna_jobs_oldest_age_seconds", "Age of the oldest queued, running or "
                            "retried piece of background work of each kind (0 when there is none).",
                            labels=("kind", "state"))
    sources = (("webhook_delivery", _webhook_rows(now), WebhookDelivery.created_at),
               ("import", _import_rows(), WearableImport.created_at),
               ("export", _export_rows(), FhirExport.created_at))
    for kind, rows, field in sources:
        seen = {state: (n, oldest) for state, n, oldest in rows}
        for state in STATES:
            n, oldest = seen.get(state, (0, None))
            count.add_metric((kind, state), n)
            if state != "failed":
                age.add_metric((kind, state), _age(field, oldest, now))
    return [count, age]


def progress_families():
    """How far the running imports and exports have come (summed over those running)."""
    read, total = (WearableImport.select(fn.COALESCE(fn.SUM(WearableImport.bytes_read), 0),
                                         fn.COALESCE(fn.SUM(WearableImport.bytes_total), 0))
                   .where(WearableImport.status == "running").tuples().get())
    done, patients = (FhirExport.select(fn.COALESCE(fn.SUM(FhirExport.patients_done), 0),
                                        fn.COALESCE(fn.SUM(FhirExport.patients_total), 0))
                      .where(FhirExport.status == "running").tuples().get())
    imports = GaugeMetricFamily("avycenna_import_bytes", "Bytes of the running imports' uploads: "
                                "read so far, and in all.", labels=("progress",))
    imports.add_metric(("read",), int(read))
    imports.add_metric(("total",), int(total))
    exports = GaugeMetricFamily("avycenna_export_patients", "Patients of the running bulk exports: "
                                "written so far, and in all.", labels=("progress",))
    exports.add_metric(("done",), int(done))
    exports.add_metric(("total",), int(patients))
    return [imports, exports]


def queue_families():
    depth = GaugeMetricFamily("avycenna_queue_pending_jobs", "Jobs waiting in each job queue: `default` "
                              "(webhook deliveries, housekeeping, short jobs) and `bulk` (imports, FHIR "
                              "exports); absent when the queues cannot be reached.", labels=("queue",))
    try:
        for queue, pending in jobs.pending_counts().items():
            depth.add_metric((queue,), pending)
    except Exception as exc:  # an unreachable Redis: the readiness gauge says so
        log.warning("metrics: job queue unreachable (%s)", type(exc).__name__)
        return []
    return [depth]


class StateCollector:
    """prometheus_client's custom-collector interface: `collect()` yields metric families."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []  # read at scrape time only, never when registered

    def collect(self):
        config = self.app.config
        info = InfoMetricFamily("avycenna_build", "The server's version and database backend.")
        info.add_metric((), {"version": config["API_VERSION"],
                             "database": "sqlite" if is_sqlite() else "postgresql"})
        yield info
        pool = GaugeMetricFamily("avycenna_db_pool_max_connections",
                                 "Most database connections one process's pool opens.")
        pool.add_metric((), getattr(database.obj, "_max_connections", 0) or 0)
        yield pool
        ready, checks, _ = readiness.check()
        parts = GaugeMetricFamily("avycenna_ready", "1 when a part this process needs is usable (and "
                                  "the process is not draining), else 0; `part=\"all\"` is the verdict of "
                                  "/health/ready.", labels=("part",))
        parts.add_metric(("all",), 1 if ready else 0)
        for part, answer in checks.items():
            parts.add_metric((part,), 1 if answer in (readiness.OK, "serving") else 0)
        yield parts
        yield from queue_families()
        try:  # on the request's own connection (`avycenna.pipeline` opened it)
            families = work_families() + progress_families()
        except Exception as exc:  # the database is gone: the readiness gauge above says so
            log.warning("metrics: database unreachable (%s)", type(exc).__name__)
            return
        yield from families
