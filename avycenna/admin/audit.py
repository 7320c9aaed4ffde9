"""/api/v1/admin/audit-events: the whole audit log for admins, filtered."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.audit import queries
from avycenna.audit.schemas import AuditEventPageSchema, AuditQueryArgs
from avycenna.actor import auth_required

blp = Blueprint("admin_audit", __name__, url_prefix="/api/v1/admin",
                description="Administration: the audit log.")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @auth_required("admin")
    @blp.arguments(AuditQueryArgs, location="query")
    @blp.response(200, AuditEventPageSchema)
    def get(self, args):
        """Audit events, newest first, filtered by actor, patient, action and time."""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        return queries.page(queries.events(**args), limit, cursor)
