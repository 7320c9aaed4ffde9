"""/api/v1/id-verifications: clinic staff's list of ID-verification requests to review."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required
from avycenna.patients.schemas import IdVerificationListArgs, IdVerificationPage
from avycenna.patients.service import list_id_verifications

blp = Blueprint("id_verifications", __name__, url_prefix="/api/v1/id-verifications",
                description="Admins review patients' ID-verification requests.")


@blp.route("")
class IdVerifications(MethodView):
    @auth_required("admin")
    @blp.arguments(IdVerificationListArgs, location="query")
    @blp.response(200, IdVerificationPage)
    def get(self, args):
        """Admins: ID-verification requests by status (pending first by default), oldest first."""
        return list_id_verifications(args["status"], args["limit"], args["cursor"])
