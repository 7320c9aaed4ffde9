"""/api/v1/patients/{id}/imports[/{import_id}]: upload an Apple Health export, follow its import;
/api/v1/patients/{id}/imports/uploads[/{upload_id}]: upload it in pieces, resumably (tus 1.0)."""
from flask import request, url_for
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.access import require_patient_access
from avycenna.imports import service, tus
from avycenna.imports.schemas import (UPLOAD_BODY, UPLOAD_CREATE_HEADERS, UPLOAD_CREATED, UPLOAD_OPTIONS,
                                      UPLOAD_PATCH_HEADERS, UPLOAD_PATCHED, UPLOAD_PIECE, UPLOAD_STATE,
                                      TUS_RESUMABLE, ImportSchema)
from avycenna.imports.upload import multipart_limit, receive_upload

blp = Blueprint("imports", __name__, url_prefix="/api/v1",
                description="Apple Health exports uploaded by the patient's account, imported in the background.")


@blp.route("/patients/<string:patient_id>/imports")
class Imports(MethodView):
    @auth_required()
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(202, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, patient_id):
        """Upload an Apple Health export within the server's body limit, imported in the background; larger: a resumable upload (the owner)."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        path, filename, _ = receive_upload(multipart_limit())
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


TUS_ENDPOINTS = ("imports.Uploads", "imports.Upload")
ERRORS = {"404": "NOT_FOUND", "409": "CONFLICT", "412": "PRECONDITION_FAILED"}


@blp.after_request
def _tus_version(response):
    return tus.add_headers(response) if request.endpoint in TUS_ENDPOINTS else response


def _owned(patient_id):
    return require_patient_access(patient_id, "wearables", owner_only=True)


def _import_location(item):
    return url_for("imports.ImportItem", patient_id=str(item.patient_id), import_id=item.id, _external=True)


@blp.route("/patients/<string:patient_id>/imports/uploads")
class Uploads(MethodView):
    @auth_required()
    @blp.doc(parameters=UPLOAD_CREATE_HEADERS, responses={"201": UPLOAD_CREATED, "413": "REQUEST_ENTITY_TOO_LARGE",
                                                          **ERRORS})
    def post(self, patient_id):
        """Start a resumable (tus 1.0) upload of an export (the owner): Upload-Length, and the name in Upload-Metadata."""
        patient = _owned(patient_id)
        return tus.create(patient, current_user(), lambda upload: url_for(
            "imports.Upload", patient_id=patient_id, upload_id=upload.id, _external=True))

    @auth_required()
    @blp.doc(responses={"204": UPLOAD_OPTIONS, "404": "NOT_FOUND"})
    def options(self, patient_id):
        """The tus version, extensions and largest upload (the owner)."""
        _owned(patient_id)
        return tus.options()


@blp.route("/patients/<string:patient_id>/imports/uploads/<string:upload_id>")
class Upload(MethodView):
    @auth_required()
    @blp.doc(parameters=[TUS_RESUMABLE], responses={"200": UPLOAD_STATE, **ERRORS})
    def head(self, patient_id, upload_id):
        """How many bytes of a resumable upload the server has (Upload-Offset): resume from there (the owner)."""
        return tus.head(_owned(patient_id), upload_id)

    @auth_required()
    @blp.doc(parameters=UPLOAD_PATCH_HEADERS, requestBody=UPLOAD_PIECE,
             responses={"204": UPLOAD_PATCHED, "413": "REQUEST_ENTITY_TOO_LARGE",
                        "415": "UNSUPPORTED_MEDIA_TYPE", **ERRORS})
    def patch(self, patient_id, upload_id):
        """Append the next piece at Upload-Offset; the last piece makes the file a queued import (the owner)."""
        return tus.patch(_owned(patient_id), upload_id, _import_location)

    @auth_required()
    @blp.doc(parameters=[TUS_RESUMABLE], responses={"204": {"description": "Deleted, with its bytes."}, **ERRORS})
    def delete(self, patient_id, upload_id):
        """Delete an unfinished resumable upload and its bytes (tus termination; the owner)."""
        return tus.delete(_owned(patient_id), upload_id)
