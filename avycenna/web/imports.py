"""Dashboard pages for Apple Health imports: upload an export, watch its progress bar.

The upload is read to disk by the same function as the API (never through `request.form`,
which would buffer it), so its CSRF token is checked here, after the body is read.
"""
from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.exceptions import abort

from avycenna.errors import ApiError
from avycenna.access import require_patient_access
from avycenna.imports import service
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
                           limit=current_app.config["IMPORTS_MAX_CONTENT_LENGTH"])


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
