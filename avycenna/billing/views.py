"""/api/v1/plans, /api/v1/subscription, /api/v1/invoices: self-hosted billing."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.billing import service
from avycenna.billing.plans import all_plans
from avycenna.billing.schemas import (InvoiceListArgs, InvoicePage, InvoiceSchema, NewSubscriptionSchema,
                                      PlanPage, SubscriptionSchema)
from avycenna.schemas import whole_list

blp = Blueprint("billing", __name__, url_prefix="/api/v1",
                description="Plans, your subscription and invoices. Payment is manual: "
                            "clinic staff mark invoices paid.")


@blp.route("/plans")
class Plans(MethodView):
    @blp.response(200, PlanPage)
    def get(self):
        """The clinic's subscription plans."""
        return whole_list(all_plans())


@blp.route("/subscription")
class SubscriptionItem(MethodView):
    @auth_required()
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self):
        """Your current subscription (pending, active or past due)."""
        return service.own_subscription(current_user())

    @auth_required()
    @blp.arguments(NewSubscriptionSchema)
    @blp.response(201, SubscriptionSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Subscribe to a plan: pending until its first invoice (`open_invoice`) is paid."""
        return service.subscribe(current_user(), body["plan"])

    @auth_required()
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self):
        """Cancel your subscription at once."""
        return service.cancel_subscription(current_user())


@blp.route("/invoices")
class Invoices(MethodView):
    @auth_required()
    @blp.arguments(InvoiceListArgs, location="query")
    @blp.response(200, InvoicePage)
    def get(self, args):
        """Your invoices, newest first."""
        return service.list_invoices(current_user(), args["limit"], args["cursor"], args.get("status"))


@blp.route("/invoices/<string:invoice_id>")
class InvoiceItem(MethodView):
    @auth_required()
    @blp.response(200, InvoiceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, invoice_id):
        """One of your invoices."""
        return service.own_invoice(current_user(), invoice_id)
