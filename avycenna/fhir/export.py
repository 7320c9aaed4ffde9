"""Bulk Data export (`Patient/$export`): a job writes one ndjson file per resource type.

The requester's patients are their own (an account holder) or those with an active grant (a
clinician), each with what the grant's scopes allow. The job streams: every section is read
with keyset queries a batch at a time and each resource is written as a line at once, so
memory does not grow with the data. State changes are conditional updates (`WHERE status=…`,
rowcount checked): a cancel (DELETE) wins over a running job, which stops at the next patient.
Files live in `instance/fhir-exports/<id>/` (0600 files in 0700 folders) and are deleted
`FHIR_EXPORT_TTL` seconds after the export finished (hourly sweep, and at once when a poll finds
them expired).

Each patient the job wrote is recorded (`FhirExportPatient`, with the scopes its sections
needed). The status and every file are served only while the requester may still read every one
of them, asked of the access rule at that moment (`readable`); otherwise they are a 404 like an
unknown export. When access narrows (`signals.access_narrowed`: a grant revoked, a patient
archived, a clinician demoted, an account disabled) the exports that lost a patient are cancelled
and their files deleted at once (`on_access_narrowed`).
"""
import json
import logging
import os
import shutil
from datetime import timedelta

from flask import current_app

from avycenna import jobs
from avycenna.audit.service import record, record_many
from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import write_transaction
from avycenna.errors import fail
from avycenna.fhir.models import FhirExport, FhirExportPatient
from avycenna.fhir.service import SECTIONS, iterate_section
from avycenna.access import basis, decide_many, granted_patients, readable_patients
from avycenna.patients.models import Patient
from avycenna.private import open_private, private_dir
from avycenna.signals import access_narrowed

log = logging.getLogger("avycenna")
EXPORT_TYPES = tuple(section.resource_type for section in SECTIONS)
STALE = timedelta(minutes=10)  # a running export with no heartbeat for this long is restarted
NOT_FOUND = "Export not found."


def export_dir(export_id):
    return os.path.join(current_app.instance_path, "fhir-exports", export_id)


def file_path(export, resource_type):
    """Each run of the job writes its own folder, so a restarted run never shares a file."""
    return os.path.join(export_dir(export.id), str(export.attempt), f"{resource_type}.ndjson")


def group_members(user):
    """Ids of a clinician's "my patients": the live patients an active grant of theirs covers."""
    return sorted((p.id for p in granted_patients(user).select(Patient.id)), key=str)


def panel(user):
    """Ids of the patients `user` may export: their own live ones, and any with an active grant."""
    return sorted((p.id for p in readable_patients(user).select(Patient.id)), key=str)


# What each kick-off exports: Patient/$export and the system $export every patient the caller
# may read (the access rule knows no admin exception: an admin's system export holds what they
# may read), Group/{id}/$export the group's members.
KINDS = {"patient": panel, "system": panel, "group": group_members}


def group_id(user):
    """The FHIR id of a clinician's group: `grp-` and their account id (`usr-…`)."""
    return "grp-" + str(user.id).replace("_", "-")


def own_group(user, fhir_group_id):
    """The caller's own group (a clinician's), else the 404 of anything one may not see."""
    if user is None or user.role != "clinician" or fhir_group_id != group_id(user):
        fail(404, "Group not found.")
    return group_members(user)


def start_export(user, types, request_url, kind="patient", since=None):
    """Queue an export of `types` for `user` (of `kind`'s patients; only what changed after
    `since`, when given); the job is enqueued after the row is committed."""
    with write_transaction():
        export = FhirExport.create(user=user.id, types=",".join(types), request_url=request_url, kind=kind,
                                   since=since)
        record("fhir.export.request", target_type="fhir_export", target_id=export.id, types=list(types),
               kind=kind, **({"since": since.isoformat()} if since else {}))
    jobs.enqueue_safely(run_export, export.id)
    return export


def own_export(user, export_id):
    """The caller's export, or a 404 (someone else's, cancelled or expired ones alike)."""
    export = FhirExport.get_or_none((FhirExport.id == export_id) & (FhirExport.user == user.id))
    if export is None or export.status == "cancelled":
        fail(404, NOT_FOUND)
    if export.expires_at is not None and export.expires_at <= utcnow():
        delete_files(export)
        fail(404, NOT_FOUND)
    return export


def exported_patients(export):
    """{patient id: scopes} of every patient this export's current run wrote."""
    rows = FhirExportPatient.select().where(FhirExportPatient.export == export.id)
    return {str(row.patient_id): row.scope_set for row in rows}


def readable(user, export):
    """True while `user` may still read every patient `export` holds, with the scopes it was
    written under: asked of the access rule now, not when the export ran."""
    return not decide_many(user, exported_patients(export))


def readable_export(user, export_id):
    """The caller's export, only while they may still read every patient in it (else the same
    404 as an unknown export, so nothing is revealed). A refused one is cancelled and its files
    deleted, as a revoke would have done."""
    export = own_export(user, export_id)
    if not readable(user, export):
        discard(export, "access")
        fail(404, NOT_FOUND)
    return export


def discard(export, reason):
    """Cancel `export` (whatever its state) and delete its files; audited. False if already cancelled."""
    cancelled = (FhirExport.update(status="cancelled", updated_at=utcnow())
                 .where((FhirExport.id == export.id) & (FhirExport.status != "cancelled")).execute())
    delete_files(export)
    if cancelled:
        record("fhir.export.cancel", target_type="fhir_export", target_id=export.id, reason=reason)
    return bool(cancelled)


def record_download(export, resource_type):
    """Audit a served file once per patient in it, so each holder's access log shows it."""
    record_many("fhir.export.download", [
        {"patient_id": pid, "target_type": "fhir_export", "target_id": export.id,
         "details": {"type": resource_type}} for pid in sorted(exported_patients(export))])


@access_narrowed.connect
def on_access_narrowed(sender, patient_id=None, user_id=None, **_):
    """Cancel and delete every live export (of `user_id`, or holding `patient_id`) whose
    requester may no longer read all of its patients."""
    live = FhirExport.select().where(FhirExport.status != "cancelled")
    if user_id is not None:
        live = live.where(FhirExport.user == user_id)
    if patient_id is not None:
        holding = FhirExportPatient.select(FhirExportPatient.export).where(FhirExportPatient.patient == patient_id)
        live = live.where(FhirExport.id.in_(holding) | (FhirExport.status.in_(("queued", "running"))))
    for export in list(live):  # a running one is judged on the patients it has written so far
        user = User.get_or_none(User.id == export.user_id)
        if user is None or not user.is_active or not readable(user, export):
            discard(export, "access")


def cancel_export(user, export_id):
    """DELETE: stop a queued or running export, or delete a finished one's files."""
    export = own_export(user, export_id)
    updated = (FhirExport.update(status="cancelled", updated_at=utcnow())
               .where((FhirExport.id == export.id) & (FhirExport.status == export.status)).execute())
    if not updated:
        return cancel_export(user, export_id)  # its state moved on meanwhile: decide again
    delete_files(export)
    record("fhir.export.cancel", target_type="fhir_export", target_id=export.id)


def delete_files(export):
    shutil.rmtree(export_dir(export.id), ignore_errors=True)


def forget_patients(export_id):
    FhirExportPatient.delete().where(FhirExportPatient.export == export_id).execute()


def _move(export_id, source, target, attempt=None, **fields):
    """Conditional state change (of this run, when `attempt` is given); True when it happened."""
    where = (FhirExport.id == export_id) & (FhirExport.status == source)
    if attempt is not None:
        where &= FhirExport.attempt == attempt
    return bool(FhirExport.update(status=target, updated_at=utcnow(), **fields).where(where).execute())


def claim(export_id):
    """queued → running for a new run; the claimed row, or None (cancelled or taken)."""
    claimed = (FhirExport.update(status="running", attempt=FhirExport.attempt + 1, updated_at=utcnow())
               .where((FhirExport.id == export_id) & (FhirExport.status == "queued")).execute())
    if not claimed:
        return None
    return FhirExport.get_by_id(export_id)


class Cancelled(Exception):
    """The export was cancelled or handed to a newer run: stop writing."""


class Writer:
    """One ndjson file per resource type, opened on its first line; a heartbeat now and then."""

    HEARTBEAT = 10_000  # lines

    def __init__(self, export):
        self.export, self.files, self.counts, self.lines = export, {}, {}, 0
        private_dir(os.path.dirname(file_path(export, "x")))

    def write(self, resource):
        kind = resource["resourceType"]
        if kind not in self.files:
            self.files[kind] = open_private(file_path(self.export, kind))
            self.counts[kind] = 0
        self.files[kind].write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
        self.counts[kind] += 1
        self.lines += 1
        if self.lines % self.HEARTBEAT == 0:
            self.beat()

    def discard(self):
        """Close and delete this run's files."""
        self.close()
        shutil.rmtree(os.path.dirname(file_path(self.export, "x")), ignore_errors=True)

    def beat(self, **fields):
        if not _move(self.export.id, "running", "running", attempt=self.export.attempt, **fields):
            raise Cancelled()

    def close(self):
        for fh in self.files.values():
            fh.close()


def write_patient(writer, user, patient, types, since=None):
    """Every resource of one patient the user may see now (changed after `since`, when given),
    section by section; recorded with the scopes it needed, and audited as a read."""
    scopes, grants = basis(user, patient)
    written, needed = {}, set()
    for section in SECTIONS:
        if section.scope in scopes and section.resource_type in types:
            needed.add(section.scope)
            for resource in iterate_section(section, patient, since=since):
                writer.write(resource)
                written[section.resource_type] = written.get(section.resource_type, 0) + 1
    if not needed:
        return  # nothing of this patient may be read now: nothing written, nothing recorded
    FhirExportPatient.create(export=writer.export.id, patient=patient.id, scopes=",".join(sorted(needed)))
    record("fhir.export", patient_id=patient.id, target_type="fhir_export", target_id=writer.export.id,
           user_id=user.id, written=written, **({"grant_id": grants[0].id} if grants else {}))


@jobs.task(queue="bulk", retries=2, retry_delay=5)
def run_export(export_id):
    """The background job: write the files, keep progress, finish (or stop when cancelled)."""
    export = claim(export_id)
    if export is None:
        return  # cancelled, or another run has it
    user = User.get_by_id(export.user_id)
    forget_patients(export_id)  # an earlier, cut-off run's
    patient_ids = KINDS[export.kind](user)
    writer = Writer(export)
    try:
        writer.beat(patients_total=len(patient_ids))
        for done, patient_id in enumerate(patient_ids, start=1):
            patient = Patient.get_or_none((Patient.id == patient_id) & Patient.archived_at.is_null())
            if patient is not None:
                write_patient(writer, user, patient, export.type_list, export.since)
            writer.beat(patients_done=done)
    except Cancelled:
        writer.discard()
        return
    except Exception:
        writer.discard()
        log.exception("FHIR export %s failed", export_id)
        _move(export_id, "running", "failed", attempt=export.attempt, error="The export failed; see the server log.",
              finished_at=utcnow(), expires_at=utcnow() + ttl())
        return
    writer.close()
    files = json.dumps([{"type": t, "count": n} for t, n in sorted(writer.counts.items())])
    if not _move(export_id, "running", "done", attempt=export.attempt, files=files, finished_at=utcnow(),
                 expires_at=utcnow() + ttl()):
        writer.discard()  # cancelled, or handed to a newer run, while writing


def ttl():
    return timedelta(seconds=int(current_app.config["FHIR_EXPORT_TTL"]))


def sweep():
    """Delete expired exports' files and rows; restart exports whose job was lost. Returns counts."""
    now = utcnow()
    expired = list(FhirExport.select().where(FhirExport.expires_at <= now)) + list(
        FhirExport.select().where((FhirExport.status == "cancelled") & (FhirExport.updated_at <= now - STALE)))
    for export in expired:
        delete_files(export)
        FhirExport.delete().where(FhirExport.id == export.id).execute()
    restarted = 0
    for export in FhirExport.select().where(FhirExport.status.in_(("queued", "running"))
                                            & (FhirExport.updated_at <= now - STALE)):
        if _move(export.id, export.status, "queued", patients_done=0):
            restarted += jobs.enqueue_safely(run_export, export.id)
    return {"deleted": len(expired), "restarted": restarted}


@jobs.periodic_task(jobs.crontab(minute="*/10"))
def sweep_exports():
    counts = sweep()
    if any(counts.values()):
        log.info("FHIR exports: %s", counts)


def progress(export):
    """`X-Progress` text for a queued or running export."""
    if export.status == "queued":
        return "queued"
    total = export.patients_total or 0
    percent = int(100 * export.patients_done / total) if total else 0
    return f"{percent}% ({export.patients_done} of {total} patients)"


def manifest(export, base_url):
    """The Bulk Data completion manifest."""
    # The kick-off's time, to the millisecond: what a client sends as the next `_since` (what was
    # stored between the kick-off and the job's run is in this export and in the next one too).
    return {"transactionTime": export.created_at.isoformat(timespec="milliseconds") + "Z",
            "request": export.request_url, "requiresAccessToken": True,
            "output": [{"type": f["type"], "url": f"{base_url}/$export-file/{export.id}/{f['type']}.ndjson",
                        "count": f["count"]} for f in export.file_list],
            "error": []}
