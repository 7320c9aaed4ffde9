"""The flask-smorest Api: error shape, security schemes and the list of resources."""
import http

import flask_smorest
from apispec import BasePlugin
from flask_smorest.utils import prepare_response

from avycenna.actor import SECURITY_SCHEMES
from avycenna.errors import http_error_response
from avycenna.schemas import ErrorSchema, ValidationErrorSchema


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_error_response(error)

    def _register_responses(self):
        """Document every error status with the seed's shapes (422 is a list)."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ValidationErrorSchema if status == 422 else ErrorSchema
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": ErrorSchema}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class CommonResponses(BasePlugin):
    """Document on every API operation the errors any of them can answer.

    A present-but-invalid (or doubled) credential is a 401 everywhere, a body that is
    not JSON a 415, malformed JSON or a NUL character a 400, a bad parameter or body a
    422, the rate limit a 429 and an unreachable database a 503.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        if not (path or "").startswith("/api/"):
            return
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = [400, 401, 429, 503]
            if "requestBody" in operation:
                statuses += [413, 415, 422]
            if any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict)):
                statuses.append(422)
            for status in statuses:
                if status not in responses and str(status) not in responses:
                    responses[status] = http.HTTPStatus(status).name


def blueprints():
    """Every API blueprint, in the order they appear in the docs."""
    from avycenna.admin.users import blp as admin_users
    from avycenna.api_keys.views import blp as api_keys
    from avycenna.auth.views import blp as auth
    from avycenna.admin.invoices import blp as admin_invoices
    from avycenna.agent.views import blp as agent
    from avycenna.billing.views import blp as billing
    from avycenna.checkout.views import blp as checkout
    from avycenna.consents import blp as consents
    from avycenna.encounters.views import blp as encounters
    from avycenna.health import blp as health
    from avycenna.id_verifications import blp as id_verifications
    from avycenna.patients.views import blp as patients
    from avycenna.admin.audit import blp as admin_audit
    from avycenna.admin.status import blp as admin_status
    from avycenna.audit.views import blp as access_log
    from avycenna.grants.views import blp as grants
    from avycenna.wearables.views import blp as wearables
    from avycenna.webhooks.views import blp as webhooks
    from avycenna.mcp.card import blp as mcp_card
    from avycenna.imports.views import blp as imports
    from avycenna.metrics.views import blp as metrics

    return [health, auth, api_keys, admin_users, patients, consents, id_verifications, agent, checkout,
            encounters, billing, admin_invoices, grants, wearables, imports, webhooks, access_log, admin_audit,
            admin_status, mcp_card, metrics]


def init_app(app):
    api = Api(app, spec_kwargs={
        "extra_plugins": [CommonResponses()],
        "info": {"description": "Self-hosted clinical API: accounts, agent encounters, "
                                "patient data shared through grants, wearables.\n\n"
                                "AI agents: the same operations are MCP tools at `/mcp` (streamable HTTP); "
                                "the server card is [/.well-known/mcp.json](/.well-known/mcp.json)."},
    })
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for blp in blueprints():
        api.register_blueprint(blp)
    return api
