"""/api/v1/webhook-endpoints: signed webhooks (Standard Webhooks) instead of polling."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.pagination import paginate
from avycenna.schemas import PageArgs, page_schema
from avycenna.webhooks import service
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint
from avycenna.webhooks.schemas import (CreatedEndpointSchema, DeliveryArgs, DeliverySchema,
                                       EndpointInSchema, EndpointPatchSchema, EndpointSchema)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhook-endpoints",
                description="Be told when something happens instead of polling. Each delivery is a "
                            "POST in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`, "
                            "`webhook-signature` v1 HMAC-SHA256 with your endpoint's `whsec_` secret), "
                            "retried with exponential backoff for about a day. Payloads carry ids and "
                            "statuses only; fetch details with your own credentials.")


@blp.route("")
class Endpoints(MethodView):
    @auth_required()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(EndpointSchema, "WebhookEndpointPage"))
    def get(self, args):
        """List your webhook endpoints, oldest first (never their secrets)."""
        return paginate(service.list_endpoints(current_user()),
                        (WebhookEndpoint.created_at, WebhookEndpoint.id), args["limit"], args["cursor"])

    @auth_required()
    @blp.arguments(EndpointInSchema)
    @blp.response(201, CreatedEndpointSchema)
    def post(self, body):
        """Register an endpoint; its signing secret is in this response only."""
        row, secret = service.create_endpoint(current_user(), body["url"], body.get("events"),
                                              body.get("description"))
        row.secret = secret
        return row


@blp.route("/<string:endpoint_id>")
class Endpoint(MethodView):
    @auth_required()
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, endpoint_id):
        """Read one of your webhook endpoints."""
        return service.get_endpoint(current_user(), endpoint_id)

    @auth_required()
    @blp.arguments(EndpointPatchSchema)
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, body, endpoint_id):
        """Change an endpoint's URL, events or description (the secret stays)."""
        return service.update_endpoint(current_user(), endpoint_id, body)

    @auth_required()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id):
        """Delete an endpoint and its delivery log; nothing more is sent to it."""
        service.delete_endpoint(current_user(), endpoint_id)


@blp.route("/<string:endpoint_id>/rotate-secret")
class EndpointSecret(MethodView):
    @auth_required()
    @blp.response(200, CreatedEndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, endpoint_id):
        """Give this endpoint a new signing secret, shown in this response only.

        The previous secret keeps signing beside the new one until `previous_secret_expires_at`
        (`WEBHOOK_SECRET_OVERLAP`, 24 hours by default): each delivery meanwhile carries both
        signatures in `webhook-signature`, so your receiver verifies with either secret while
        you switch it over.
        """
        row, secret = service.rotate_secret(current_user(), endpoint_id)
        row.secret = secret
        return row


@blp.route("/<string:endpoint_id>/test")
class EndpointTest(MethodView):
    @auth_required()
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id):
        """Send a `webhook.test` event to this endpoint (in the background); returns its delivery."""
        return service.send_test(current_user(), endpoint_id)


@blp.route("/<string:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @auth_required()
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, page_schema(DeliverySchema, "WebhookDeliveryPage"))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, endpoint_id):
        """The delivery log, newest first: status, response code, attempts, next retry."""
        query = service.list_deliveries(current_user(), endpoint_id, args["status"])
        return paginate(query, (WebhookDelivery.created_at, WebhookDelivery.id), args["limit"],
                        args["cursor"], descending=True)


@blp.route("/<string:endpoint_id>/deliveries/<string:delivery_id>/retry")
class DeliveryRetry(MethodView):
    @auth_required()
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, endpoint_id, delivery_id):
        """Send a delivery again now, with the same `webhook-id` and body."""
        return service.retry_delivery(current_user(), endpoint_id, delivery_id)
