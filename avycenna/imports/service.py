"""Import rules, callable without HTTP: receive an upload, run it as a job, report, resume.

An upload is streamed straight to a file under `instance/imports/` (never held in
memory), recorded as a `queued` import and handed to the job queue. The job claims it
(`queued` → `running`, one conditional update that also takes a lease: of two workers
racing for one import, one wins), streams it through the Apple Health importer and ends
`done` or `failed`; the uploaded file is deleted either way.

Imports run on the job queue's `bulk` workers, one at a time per account: a claim finds no
other running import of the account, and a partial unique index refuses a second one to
claims that race. An import whose account is busy stays `queued` (never failed); when the
running one ends, the account's oldest queued import is enqueued again, behind whatever other
accounts queued meanwhile. So one account's uploads take turns and never hold every worker. While it reads, the job writes
its progress (bytes read from the file) and renews its lease, and only the lease's owner
can: a run that finds its lease taken stops without touching the import again.

A restart (or a worker that stops answering) lets the lease expire: the sweep puts such an
import back to `queued` and enqueues it again, never one whose lease is still running, and
samples the first attempt stored are recognised and not stored twice. After
IMPORTS_MAX_ATTEMPTS claims the sweep gives up: the import is `failed`, with the reason.
"""
import json
import logging
import os
import secrets
import tempfile
from collections import Counter
from datetime import timedelta

from flask import current_app
from peewee import SQL, IntegrityError, fn

from avycenna import jobs
from avycenna.audit.service import record
from avycenna.clock import isoformat, utcnow
from avycenna.db import database, write_transaction
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
        item = add(patient, user, path, filename)
    queue(item)
    return item


def add(patient, user, path, filename):
    """Record the file at `path` as a queued import, inside the caller's write transaction (the
    import owns the file from now on); the caller hands it to `queue` once committed."""
    item = WearableImport.create(patient=patient, account=user, filename=(filename or "export")[:255],
                                 path=path, bytes_total=os.path.getsize(path))
    record("wearables.import.create", patient_id=patient.id, target_type="wearable_import",
           target_id=item.id, bytes=item.bytes_total)
    return item


def queue(item):
    """Hand a recorded import to the job queue (the sweep picks it up if the queue is down)."""
    jobs.enqueue_safely(run_import, item.id)


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


class LeaseLost(Exception):
    """This run's lease on an import expired and was taken: another run owns it now."""


def _lease_seconds():
    return current_app.config["IMPORTS_STALE_SECONDS"]


def _lease_expired(now):
    """An import whose lease has run out (or, from before leases, whose heartbeat is stale)."""
    stale = now - timedelta(seconds=_lease_seconds())
    return ((WearableImport.lease_expires_at < now)
            | (WearableImport.lease_expires_at.is_null() & (WearableImport.heartbeat_at < stale)))


def _account_running(live_only=False):
    """SQL: the account of the outer import has a running import (with a live lease, if asked)."""
    other = WearableImport.alias("running_import")
    where = (other.account == WearableImport.account) & (other.status == "running")
    if live_only:
        where &= other.lease_expires_at >= utcnow()
    return fn.EXISTS(other.select(SQL("1")).where(where))


def claim(import_id, owner):
    """`queued` → `running`, leased to `owner` for IMPORTS_STALE_SECONDS: one conditional
    UPDATE, so of two workers racing for one import exactly one wins. Counts an attempt;
    an import that has had IMPORTS_MAX_ATTEMPTS is not claimed, nor one whose account has
    another import running (the partial unique index refuses the one that loses a race to the
    condition): it stays queued for its turn."""
    now = utcnow()
    query = WearableImport.update(
        status="running", started_at=now, heartbeat_at=now, lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=_lease_seconds()), attempts=WearableImport.attempts + 1,
    ).where((WearableImport.id == import_id) & (WearableImport.status == "queued")
            & (WearableImport.attempts < current_app.config["IMPORTS_MAX_ATTEMPTS"])
            & (WearableImport.lease_owner.is_null() | (WearableImport.lease_expires_at < now))
            & ~_account_running())
    try:
        with database.atomic():
            return query.execute() == 1
    except IntegrityError:  # the account's other import was claimed at the same moment
        return False


def start_next(account_id):
    """Enqueue the account's oldest queued import, if any (after its running one ended); returns its id.

    It goes to the back of the queue, behind other accounts' imports queued meanwhile."""
    following = (WearableImport.select(WearableImport.id)
                 .where((WearableImport.account == account_id) & (WearableImport.status == "queued")
                        & (WearableImport.attempts < current_app.config["IMPORTS_MAX_ATTEMPTS"]))
                 .order_by(WearableImport.created_at, WearableImport.id).limit(1).scalar())
    if following is not None:
        jobs.enqueue_safely(run_import, following)
    return following


def renew(import_id, owner, **fields):
    """Write progress and extend the lease, only while `owner` holds it; LeaseLost otherwise."""
    now = utcnow()
    query = WearableImport.update(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=_lease_seconds()),
                                  **fields).where((WearableImport.id == import_id)
                                                  & (WearableImport.status == "running")
                                                  & (WearableImport.lease_owner == owner))
    if query.execute() != 1:
        raise LeaseLost(import_id)


def _split(counts):
    inserted = {k[len(INSERTED_PREFIX):]: n for k, n in counts.items() if k.startswith(INSERTED_PREFIX)}
    return inserted, counts.get("duplicates", 0)


@jobs.task(queue="bulk")
def run_import(import_id):
    """The background job: import one upload (safe to run twice: only one run claims it; an
    import whose account has another one running waits, queued, for `start_next`)."""
    from avycenna.wearables.apple_health import ExportUnreadable, import_export

    owner = secrets.token_hex(16)  # this run, not this worker: a retry in the same thread is another owner
    if not claim(import_id, owner):
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
        renew(import_id, owner, bytes_read=position, **(totals(counts) if counts is not None else {}))

    try:
        counts, skipped = import_export(item.patient, item.path, progress, user_id=item.account_id,
                                        progress_seconds=min(2.0, _lease_seconds() / 4))
        outcome = {"status": "done", "bytes_read": item.bytes_total, **totals(counts)}
    except LeaseLost:
        log.warning("import %s: lease lost, another run holds it", import_id)
        return
    except ExportUnreadable as error:
        skipped = error.skipped
        outcome = {"status": "failed", "error": str(error), **totals(error.counts)}
    except Exception as exc:  # logged by type only: a message may quote patient data
        log.error("import %s failed: %s", import_id, type(exc).__name__)
        skipped, outcome = Counter(), {"status": "failed", "error": "The import stopped on an internal error."}
    _finish(item, outcome, skipped, WearableImport.lease_owner == owner)


def _finish(item, outcome, skipped, held):
    """End a running import held as `held` says; the file is deleted by whoever ended it."""
    with write_transaction():
        ended = WearableImport.update(path=None, finished_at=utcnow(), lease_owner=None, lease_expires_at=None,
                                      skipped=json.dumps(dict(skipped), sort_keys=True), **outcome).where(
            (WearableImport.id == item.id) & (WearableImport.status == "running") & held).execute() == 1
        if ended:
            record("wearables.import." + outcome["status"], patient_id=item.patient_id,
                   target_type="wearable_import", target_id=item.id, user_id=item.account_id,
                   outcome="success" if outcome["status"] == "done" else "failure")
    if ended:
        remove_file(item.path)
        start_next(item.account_id)
    return ended


def remove_file(path):
    if path:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def resume_stale():
    """Queue again what a restart left behind; returns the import ids enqueued.

    A `running` import whose lease has expired lost its worker (a restart, or a worker that
    stopped answering for IMPORTS_STALE_SECONDS); a `queued` one that old never reached a
    worker (queue down or lost), unless it waits for its turn behind a live import of its
    account (which enqueues it when it ends). Both are (re)enqueued, the first only through a
    conditional update that still finds the lease expired; the job's conditional claim makes a
    double enqueue harmless. An import that has had IMPORTS_MAX_ATTEMPTS attempts is `failed`
    instead.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=_lease_seconds())
    max_attempts = current_app.config["IMPORTS_MAX_ATTEMPTS"]
    running = (WearableImport.status == "running") & _lease_expired(now)
    queued = (WearableImport.status == "queued") & (WearableImport.created_at < cutoff) & ~_account_running(True)
    stale = WearableImport.select(WearableImport.id, WearableImport.status, WearableImport.attempts).where(
        running | queued)
    resumed = []
    for import_id, status, attempts in stale.tuples():
        this = WearableImport.id == import_id
        if attempts >= max_attempts:
            _give_up(import_id, running if status == "running" else (WearableImport.status == "queued"), attempts)
            continue
        if status == "running" and WearableImport.update(
                status="queued", lease_owner=None, lease_expires_at=None).where(this & running).execute() != 1:
            continue  # renewed (or ended) since the select: its worker is alive
        if jobs.enqueue_safely(run_import, import_id):
            resumed.append(import_id)
    return resumed


def _give_up(import_id, condition, attempts):
    item = WearableImport.get_or_none(WearableImport.id == import_id)
    if item is None:
        return
    error = (f"The import was stopped after {attempts} attempts, each cut off before the end (the server "
             f"restarted or its worker stopped answering). Samples read before were stored; upload the "
             f"file again to finish.")
    with write_transaction():
        ended = WearableImport.update(status="failed", error=error, path=None, finished_at=utcnow(),
                                      lease_owner=None, lease_expires_at=None).where(
            (WearableImport.id == import_id) & condition).execute() == 1
        if ended:
            record("wearables.import.failed", patient_id=item.patient_id, target_type="wearable_import",
                   target_id=item.id, user_id=item.account_id, outcome="failure")
    if ended:
        remove_file(item.path)
        start_next(item.account_id)


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
