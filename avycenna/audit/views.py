"""/api/v1/patients/{id}/access-log: who read or changed a patient's data, for the account holder."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.audit import queries
from avycenna.audit.schemas import AccessLogPageSchema
from avycenna.actor import auth_required
from avycenna.access import require_patient_access
from avycenna.schemas import PageArgs

blp = Blueprint("access_log", __name__, url_prefix="/api/v1/patients",
                description="The account holder's view of the audit log for one patient.")


@blp.route("/<string:patient_id>/access-log")
class AccessLog(MethodView):
    @auth_required()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AccessLogPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, patient_id):
        """Who read or changed this patient's data, and when (newest first; owner only)."""
        patient = require_patient_access(patient_id, "profile", owner_only=True)
        return queries.access_log(patient, args["limit"], args["cursor"])
