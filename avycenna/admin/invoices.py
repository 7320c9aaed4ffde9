"""/api/v1/admin/invoices: the built-in manual payment provider."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.billing.schemas import InvoiceListArgs, InvoicePage, InvoiceSchema
from avycenna.billing.service import all_invoices, mark_paid

blp = Blueprint("admin_invoices", __name__, url_prefix="/api/v1/admin/invoices",
                description="Admins record payments received outside the server.")


@blp.route("")
class Invoices(MethodView):
    @auth_required("admin")
    @blp.arguments(InvoiceListArgs, location="query")
    @blp.response(200, InvoicePage)
    def get(self, args):
        """Admins: every account's invoices, newest first (`?status=open` is the work list)."""
        return all_invoices(args["limit"], args["cursor"], args.get("status"))


@blp.route("/<string:invoice_id>/mark-paid")
class MarkPaid(MethodView):
    @auth_required("admin")
    @blp.response(200, InvoiceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, invoice_id):
        """Admins: mark an invoice paid (activates the subscription or submits the encounter)."""
        return mark_paid(current_user(), invoice_id)
