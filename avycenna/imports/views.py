"""/api/v1/patients/{id}/imports[/{import_id}]: upload an Apple Health export, follow its import."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.access import require_patient_access
from avycenna.imports import service
from avycenna.imports.schemas import UPLOAD_BODY, ImportSchema
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
