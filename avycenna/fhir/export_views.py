"""Bulk Data (async): the kick-offs (`Patient/$export`, `Group/{id}/$export`, the system
`$export`), status/manifest, cancel, file download; and the clinician's Group."""
from datetime import datetime, timezone

from flask import current_app, g, request, send_file

from avycenna.actor import auth_required, current_user
from avycenna.errors import fail
from avycenna.fhir import export, patients
from avycenna.fhir.responses import base_url, fhir_response, searchset
from avycenna.fhir.search import bad, check_known, instant_range, one
from avycenna.fhir.views import bp
from avycenna.http import public_url

OUTPUT_FORMATS = (None, "application/fhir+ndjson", "application/ndjson", "ndjson")
NDJSON = "application/fhir+ndjson"


def information(text):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": text}]}


def requested_since():
    """`_since` (an instant, e.g. 2026-11-20T08:00:00.123Z) as a naive UTC datetime, or None."""
    text = one("_since")
    if text is None:
        return None
    lower = instant_range(text, "_since")[0]
    return datetime.fromtimestamp(lower / 1000, tz=timezone.utc).replace(tzinfo=None)


def requested_types():
    """`_type` (comma-separated) checked against what an export can hold; default all."""
    check_known(("_type", "_outputFormat", "_since"))
    if one("_outputFormat") not in OUTPUT_FORMATS:
        bad("_outputFormat", "Only application/fhir+ndjson is offered.")
    types = [t.strip() for t in (one("_type") or ",".join(export.EXPORT_TYPES)).split(",") if t.strip()]
    unknown = sorted(set(types) - set(export.EXPORT_TYPES))
    if unknown or not types:
        bad("_type", f"Unknown resource types {unknown}; choose from {', '.join(export.EXPORT_TYPES)}.")
    return types


def start(kind):
    """A kick-off: `Prefer: respond-async`, `_type`, `_since`, `_outputFormat`; 202 + Content-Location."""
    if "respond-async" not in request.headers.get("Prefer", ""):
        fail(400, "Bulk export is asynchronous: send 'Prefer: respond-async'.")
    types, since = requested_types(), requested_since()
    job = export.start_export(current_user(), types, public_url(request.full_path.rstrip("?")), kind, since)
    return fhir_response(information("Export started; poll the Content-Location URL."), 202,
                         {"Content-Location": f"{base_url()}/$export-status/{job.id}"})


@bp.get("/Patient/$export")
@auth_required()
def kick_off():
    """Start an export of every patient the caller may see (needs `Prefer: respond-async`)."""
    return start("patient")


@bp.get("/$export")
@auth_required()
def system_kick_off():
    """The system export, for admins: every patient the admin may read by the access rule."""
    if current_user().role != "admin":
        fail(403, "The system export is for admins; use Patient/$export or your Group's $export.")
    return start("system")


@bp.get("/Group/<group_id>/$export")
@auth_required()
def group_kick_off(group_id):
    """Export a clinician's own Group ("my patients": those their active grants cover)."""
    export.own_group(current_user(), group_id)
    return start("group")


@bp.get("/Group/<group_id>")
@auth_required()
def read_group(group_id):
    """A clinician's Group: their patients (those an active grant covers); theirs alone."""
    check_known(())
    user = current_user()
    return fhir_response(patients.read_group(user, export.group_id(user), export.own_group(user, group_id)))


@bp.get("/Group")
@auth_required()
def search_groups():
    """The caller's Group (a clinician's one; none for anyone else): how a connector finds its id."""
    check_known(())
    user = current_user()
    if user.role != "clinician":
        return fhir_response(searchset([], None))
    return fhir_response(searchset([patients.read_group(user, export.group_id(user), export.group_members(user))],
                                   None))


@bp.get("/$export-status/<export_id>")
@auth_required()
def status(export_id):
    """202 with X-Progress while it runs; 200 with the manifest when done. 404 once the caller
    may no longer read every patient the export holds (a revoked grant, an archived patient…)."""
    job = export.readable_export(current_user(), export_id)
    if job.status in ("queued", "running"):
        g.retry_after = current_app.config["FHIR_EXPORT_RETRY_AFTER"]  # kept by ratelimit.only_429_retries
        return fhir_response(information("Export in progress."), 202, {"X-Progress": export.progress(job)})
    if job.status == "failed":
        return fhir_response({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "exception", "diagnostics": job.error}]}, 500)
    response = current_app.response_class(current_app.json.dumps(export.manifest(job, base_url())),
                                          mimetype="application/json")
    response.expires = job.expires_at
    return response


@bp.delete("/$export-status/<export_id>")
@auth_required()
def cancel(export_id):
    """Cancel a running export, or delete a finished one's files at once."""
    export.cancel_export(current_user(), export_id)
    return fhir_response(information("Export cancelled and its files deleted."), 202)


@bp.get("/$export-file/<export_id>/<resource_type>.ndjson")
@auth_required()
def download(export_id, resource_type):
    """One ndjson file of a finished export (the requester's credentials), while the caller may
    still read every patient in it; audited once per patient, so each holder's access log shows it."""
    job = export.readable_export(current_user(), export_id)
    if job.status != "done" or resource_type not in {f["type"] for f in job.file_list}:
        fail(404, export.NOT_FOUND)
    export.record_download(job, resource_type)
    return send_file(export.file_path(job, resource_type), mimetype=NDJSON)
