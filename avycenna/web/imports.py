"""Dashboard pages for Apple Health imports: upload an export, watch its progress bar.

The page uploads with `tus-js-client` (served from web/static/vendor/): a resumable upload
in pieces, through the same tus handler as the API (`avycenna.imports.tus`), signed in by the
session cookie with the CSRF token in the `X-CSRFToken` header; a reload (or a lost
connection) resumes where the server's offset says. Without JavaScript the form posts the file
as multipart, read to disk by the same function as the API (never through `request.form`,
which would buffer it), so its CSRF token is checked here, after the body is read.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.exceptions import abort

from avycenna.errors import ApiError
from avycenna.access import require_patient_access
from avycenna.imports import resumable, service, tus
from avycenna.imports.models import WearableImport
from avycenna.imports.upload import multipart_limit, receive_upload
from avycenna.web.blueprint import bp
from avycenna.web.sessions import page_user, signin_required


def recent_imports(patient):
    query = (WearableImport.select().where(WearableImport.patient == patient)
             .order_by(WearableImport.created_at.desc()).limit(10))
    return [service.present(item) for item in query]


@bp.get("/account/patients/<patient_id>/imports")
@signin_required()
def imports(patient_id):
    patient = require_patient_access(patient_id, "wearables", owner_only=True)
    return render_template("web/imports.html", patient=patient, imports=recent_imports(patient),
                           limit=resumable.max_length(), chunk_size=resumable.max_piece(),
                           plain_limit=multipart_limit())


@bp.post("/account/patients/<patient_id>/imports")
@signin_required()
def upload_import(patient_id):
    patient = require_patient_access(patient_id, "wearables", owner_only=True)
    try:
        path, filename, form = receive_upload(multipart_limit())
    except ApiError as error:
        flash("Choose the export.zip file to upload." if error.code == 422 else error.description, "error")
        return redirect(url_for("web.imports", patient_id=patient.id))
    try:
        validate_csrf(form.get("csrf_token"))
    except ValidationError:
        service.remove_file(path)
        abort(400)
    item = service.create(patient, page_user(), path, filename)
    return redirect(url_for("web.import_status", patient_id=patient.id, import_id=item.id))


@bp.get("/account/patients/<patient_id>/imports/<import_id>")
@signin_required()
def import_status(patient_id, import_id):
    patient = require_patient_access(patient_id, "wearables", owner_only=True)
    item = service.present(service.get_for_patient(patient, import_id))
    return render_template("web/import.html", patient=patient, item=item)


TUS_ENDPOINTS = ("web.create_import_upload", "web.import_upload")


@bp.after_request
def _tus_version(response):
    return tus.add_headers(response) if request.endpoint in TUS_ENDPOINTS else response


def _check_csrf_header():
    """The page's tus requests carry the CSRF token in a header (checked before the body is
    read; the blueprint's own check would parse the body as a form)."""
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        abort(400)


@bp.post("/account/patients/<patient_id>/imports/uploads")
@signin_required()
def create_import_upload(patient_id):
    """tus creation, for the page."""
    _check_csrf_header()
    patient = require_patient_access(patient_id, "wearables", owner_only=True)
    return tus.create(patient, page_user(), lambda upload: url_for(
        "web.import_upload", patient_id=patient.id, upload_id=upload.id))


@bp.route("/account/patients/<patient_id>/imports/uploads/<upload_id>", methods=["HEAD", "PATCH", "DELETE"])
@signin_required()
def import_upload(patient_id, upload_id):
    """tus HEAD (the offset to resume from), PATCH (the next piece) and DELETE, for the page."""
    if request.method != "HEAD":
        _check_csrf_header()
    patient = require_patient_access(patient_id, "wearables", owner_only=True)
    if request.method == "HEAD":
        return tus.head(patient, upload_id)
    if request.method == "DELETE":
        return tus.delete(patient, upload_id)
    return tus.patch(patient, upload_id, lambda item: url_for(
        "web.import_status", patient_id=patient.id, import_id=item.id))
