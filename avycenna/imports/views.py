"""/api/v1/patients/{id}/imports[/{import_id}]: upload an Apple Health export, follow its import."""
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from avycenna.auth.actor import auth_required, current_user
from avycenna.errors import fail, validation_error
from avycenna.grants.access import require_patient_access
from avycenna.imports import service
from avycenna.imports.schemas import UPLOAD_BODY, ImportSchema

blp = Blueprint("imports", __name__, url_prefix="/api/v1",
                description="Apple Health exports uploaded by the patient's account, imported in the background.")


def receive_upload(limit):
    """(path, filename) of the multipart `file` field, written to instance/imports/ as it arrives."""
    written = []

    def to_disk(total_content_length, content_type, filename, content_length=None):
        written.append(service.upload_file())
        return written[-1]
    try:
        _, _, files = parse_form_data(request.environ, stream_factory=to_disk, max_content_length=limit,
                                      silent=False)
        upload = files.get("file")
    except RequestEntityTooLarge:
        upload = None
        fail(413, f"The file is too large: at most {limit} bytes.")
    except ValueError:
        upload = None
        fail(400, "Malformed multipart body.")
    finally:
        for fh in written:
            fh.close()
            if upload is None or fh is not upload.stream:
                service._remove(fh.name)
    if upload is None:
        validation_error(["files", "file"], "Missing data for required field.", "missing")
    return upload.stream.name, upload.filename


@blp.route("/patients/<string:patient_id>/imports")
class Imports(MethodView):
    @auth_required()
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(202, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, patient_id):
        """Upload an Apple Health export (export.zip or export.xml) to import in the background (the owner)."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        path, filename = receive_upload(current_app.config["IMPORTS_MAX_CONTENT_LENGTH"])
        return service.present(service.create(patient, current_user(), path, filename))


@blp.route("/patients/<string:patient_id>/imports/<string:import_id>")
class ImportItem(MethodView):
    @auth_required()
    @blp.response(200, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id, import_id):
        """An import's status, progress (bytes read of the file) and counts (the owner)."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        return service.present(service.get_for_patient(patient, import_id))
