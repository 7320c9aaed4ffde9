"""Import rules, callable without HTTP: receive an upload, run it as a job, report, resume.

An upload is streamed straight to a file under `instance/imports/` (never held in
memory), recorded as a `queued` import and handed to the job queue. The job claims it
(`queued` → `running`, a conditional update), streams it through the Apple Health
importer, writes its progress as it goes and ends `done` or `failed`; the uploaded
file is deleted either way. A restart cuts a running import off: the sweep finds its
progress stale, puts it back to `queued` and enqueues it again; samples stored by the
first attempt are recognised and not stored twice.
"""
import json
import logging
import os
import tempfile
from collections import Counter
from datetime import timedelta

from flask import current_app

from avycenna import jobs
from avycenna.audit.service import record
from avycenna.clock import isoformat, utcnow
from avycenna.db import write_transaction
from avycenna.errors import fail
from avycenna.imports.models import WearableImport
from avycenna.private import private_dir

log = logging.getLogger("avycenna")
INSERTED_PREFIX = "inserted_"


def upload_dir():
    return private_dir(os.path.join(current_app.instance_path, "imports"))


def upload_file():
    """A new file under instance/imports/ for an upload to be written into."""
    return tempfile.NamedTemporaryFile(dir=upload_dir(), prefix="upload-", suffix=".part", delete=False)


def create(patient, user, path, filename):
    """Record the uploaded file at `path` as a queued import and enqueue it; returns the import."""
    with write_transaction():
        item = WearableImport.create(patient=patient, account=user, filename=(filename or "export")[:255],
                                     path=path, bytes_total=os.path.getsize(path))
        record("wearables.import.create", patient_id=patient.id, target_type="wearable_import",
               target_id=item.id, bytes=item.bytes_total)
    jobs.enqueue_safely(run_import, item.id)  # the sweep picks it up if the queue is down
    return item


def get_for_patient(patient, import_id):
    item = WearableImport.get_or_none((WearableImport.id == import_id) & (WearableImport.patient == patient))
    if item is None:
        fail(404, "Not found.")
    return item


def present(item):
    """The public form of an import: status, progress and counts."""
    inserted = json.loads(item.inserted)
    total = item.bytes_total or 0
    read = total if item.status == "done" else min(item.bytes_read, total)
    return {"id": item.id, "patient_id": str(item.patient_id), "filename": item.filename, "status": item.status,
            "progress": {"bytes_read": read, "bytes_total": total,
                         "percent": round(100 * read / total, 1) if total else 100.0},
            "inserted": inserted, "inserted_total": sum(inserted.values()), "duplicates": item.duplicates,
            "skipped": json.loads(item.skipped), "error": item.error,
            "created_at": isoformat(item.created_at), "finished_at": isoformat(item.finished_at)}


def _update(import_id, expected, **fields):
    """UPDATE … WHERE id = ? AND status = `expected`; True when the row was in that status."""
    query = WearableImport.update(**fields).where((WearableImport.id == import_id)
                                                  & (WearableImport.status == expected))
    return query.execute() == 1


def _split(counts):
    inserted = {k[len(INSERTED_PREFIX):]: n for k, n in counts.items() if k.startswith(INSERTED_PREFIX)}
    return inserted, counts.get("duplicates", 0)


@jobs.task()
def run_import(import_id):
    """The background job: import one upload (safe to run twice: only one run claims it)."""
    from avycenna.wearables.apple_health import ExportUnreadable, import_export

    now = utcnow()
    if not _update(import_id, "queued", status="running", started_at=now, heartbeat_at=now,
                   attempts=WearableImport.attempts + 1):
        return
    item = WearableImport.get_by_id(import_id)
    earlier = Counter({INSERTED_PREFIX + k: n for k, n in json.loads(item.inserted).items()})
    earlier_total = sum(earlier.values())

    def totals(counts):
        """Counts of this attempt plus what an attempt cut off by a restart had stored."""
        inserted, duplicates = _split(counts + earlier)
        return {"inserted": json.dumps(inserted, sort_keys=True),
                "duplicates": max(0, duplicates - earlier_total)}

    def progress(position, counts=None):
        _update(import_id, "running", bytes_read=position, heartbeat_at=utcnow(),
                **(totals(counts) if counts is not None else {}))

    try:
        counts, skipped = import_export(item.patient, item.path, progress, user_id=item.account_id)
        outcome = {"status": "done", "bytes_read": item.bytes_total, **totals(counts)}
    except ExportUnreadable as error:
        skipped = error.skipped
        outcome = {"status": "failed", "error": str(error), **totals(error.counts)}
    except Exception as exc:  # logged by type only: a message may quote patient data
        log.error("import %s failed: %s", import_id, type(exc).__name__)
        skipped, outcome = Counter(), {"status": "failed", "error": "The import stopped on an internal error."}
    _finish(item, outcome, skipped)


def _finish(item, outcome, skipped):
    remove_file(item.path)
    with write_transaction():
        _update(item.id, "running", path=None, finished_at=utcnow(),
                skipped=json.dumps(dict(skipped), sort_keys=True), **outcome)
        record("wearables.import." + outcome["status"], patient_id=item.patient_id, target_type="wearable_import",
               target_id=item.id, user_id=item.account_id, outcome="success" if outcome["status"] == "done"
               else "failure")


def remove_file(path):
    if path:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def resume_stale():
    """Queue again what a restart left behind; returns the import ids enqueued.

    A `running` import whose heartbeat is older than IMPORTS_STALE_SECONDS was cut off;
    a `queued` one that old never reached a worker (queue down or lost). Both are
    (re)enqueued; the job's conditional claim makes a double enqueue harmless.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["IMPORTS_STALE_SECONDS"])
    stale = WearableImport.select(WearableImport.id).where(
        ((WearableImport.status == "running") & (WearableImport.heartbeat_at < cutoff))
        | ((WearableImport.status == "queued") & (WearableImport.created_at < cutoff)))
    resumed = []
    for (import_id,) in stale.tuples():
        _update(import_id, "running", status="queued")
        if jobs.enqueue_safely(run_import, import_id):
            resumed.append(import_id)
    return resumed


def _sweep():
    resumed = resume_stale()
    if resumed:
        log.info("imports resumed after a restart: %d", len(resumed))


@jobs.periodic_task(jobs.crontab(minute="*"))
def sweep():
    """Every minute: resume imports a restart cut off."""
    _sweep()


@jobs.task()
def sweep_now():
    """The same sweep, once, when workers start (after a restart), without waiting for the minute."""
    _sweep()


@jobs.huey.on_startup("imports.sweep")
def _sweep_on_start():
    jobs.enqueue_safely(sweep_now)
