"""/api/v1/admin/invoices: the built-in manual payment provider."""
from flask.views import MethodView
from flask_smorest import Blueprint

from avycenna.auth.actor import auth_required, current_user
from avycenna.billing.schemas import InvoiceSchema
from avycenna.billing.service import mark_paid

blp = Blueprint("admin_invoices", __name__, url_prefix="/api/v1/admin/invoices",
                description="Admins record payments received outside the server.")


@blp.route("/<string:invoice_id>/mark-paid")
class MarkPaid(MethodView):
    @auth_required("admin")
    @blp.response(200, InvoiceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, invoice_id):
        """Admins: mark an invoice paid (activates the subscription or submits the encounter)."""
        return mark_paid(current_user(), invoice_id)
