"""The flask-smorest Api: error shape, security schemes and the list of resources."""
import http

import flask_smorest
from apispec import BasePlugin
from flask_smorest.utils import prepare_response

from avycenna.actor import SECURITY_SCHEMES
from avycenna.errors import http_error_response
from avycenna.schemas import NO_NUL, ErrorSchema, ValidationErrorSchema

DESCRIPTION = """Self-hosted clinical API: accounts, agent encounters, patient data shared through grants, wearables.

This document states every limit the server enforces on a field (lengths, patterns, date
bounds, formats, "at least one field" on a PATCH, what may be null). A request it calls valid
is never refused as invalid (422): what remains are rules about the world at the moment of
the request (a cursor the server issued for this list, a webhook host that resolves to public
addresses), each a 422 naming its field.

Two more interfaces share the accounts, the access rule and the rate limits:

- **FHIR R4** at `/fhir/R4`, described by its CapabilityStatement:
  [/fhir/R4/metadata](/fhir/R4/metadata) (JSON, `application/fhir+json`).
- **MCP** at `/mcp` (streamable HTTP): the agent front door as MCP tools, described by its
  server card: [/.well-known/mcp.json](/.well-known/mcp.json)."""

TAGS = [
    {"name": "FHIR R4", "description": "Patient data as FHIR R4 resources at `/fhir/R4` (its own "
                                       "document: the CapabilityStatement).",
     "externalDocs": {"description": "CapabilityStatement", "url": "/fhir/R4/metadata"}},
    {"name": "MCP", "description": "The agent front door as MCP tools at `/mcp` (streamable HTTP; its "
                                   "own document: the server card).",
     "externalDocs": {"description": "MCP server card", "url": "/.well-known/mcp.json"}},
]


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

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        """Path parameters are text too: the NUL rule (`no_nul`)."""
        for parameter in parameters or []:
            if isinstance(parameter, dict) and parameter.get("in") == "path":
                schema = parameter.setdefault("schema", {"type": "string"})
                schema.update(no_nul(None, None, ret=schema))


def no_nul(self, field, ret=None, **kwargs):
    """An apispec attribute function: a string that no pattern, format or enum limits yet gets
    the NUL rule every text has (avycenna/http.py) as its pattern."""
    ret = ret or {}
    if ret.get("type") == "string" and not {"pattern", "format", "enum"} & set(ret):
        return {"pattern": NO_NUL}
    return {}


class SchemaKeywords(BasePlugin):
    """Rules on a whole body, stated by the schema class that enforces them: its
    `json_schema_keywords()` (e.g. ChangeSchema's `minProperties: 1` on a PATCH body)."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        keywords = getattr(schema, "json_schema_keywords", None)
        return keywords() if keywords else None


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
    from avycenna.oauth.views import blp as oauth_metadata

    return [health, auth, api_keys, admin_users, patients, consents, id_verifications, agent, checkout,
            encounters, billing, admin_invoices, grants, wearables, imports, webhooks, access_log, admin_audit,
            admin_status, mcp_card, oauth_metadata, metrics]


def init_app(app):
    api = Api(app, spec_kwargs={"extra_plugins": [CommonResponses(), SchemaKeywords()],
                                "info": {"description": DESCRIPTION}})
    api.ma_plugin.converter.add_attribute_function(no_nul)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for tag in TAGS:
        api.spec.tag(tag)
    with app.app_context():  # limits read from the config (schemas.ConfigLength) are stated as configured
        for blp in blueprints():
            api.register_blueprint(blp)
    return api
