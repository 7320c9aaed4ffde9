"""The authorization server's endpoints: its metadata (RFC 8414), the metadata of `/mcp` as a
protected resource (RFC 9728), and the token, registration and revocation endpoints.

The two metadata documents are in the OpenAPI document. The token, registration (RFC 7591)
and revocation (RFC 7009) endpoints speak OAuth's own wire format (form bodies, RFC 6749
error JSON) and are described by the server metadata, as FHIR is by its CapabilityStatement.
The authorization endpoint is a page (the consent page: `avycenna/web/oauth_pages.py`).
"""
from flask import Blueprint as FlaskBlueprint, jsonify
from flask.views import MethodView
from marshmallow import Schema, fields

from avycenna.blueprint import Blueprint
from avycenna.errors import register_error_format
from avycenna.oauth import authorization, idtoken, metadata
from avycenna.ratelimit import config_limit, ip_key, limiter

blp = Blueprint("oauth_metadata", __name__, url_prefix="/.well-known",
                description="OAuth 2.1 discovery: the authorization server's metadata (RFC 8414, and as "
                            "OpenID Connect Discovery's), its id_token key (JWKS) and `/mcp` as a protected "
                            "resource (RFC 9728). The endpoints they name speak OAuth's own format (form "
                            "bodies, RFC 6749 errors).")
bp = FlaskBlueprint("oauth", __name__, url_prefix="/oauth")
smart = FlaskBlueprint("smart", __name__)

ERRORS = {400: "invalid_request", 401: "invalid_client", 403: "access_denied", 404: "invalid_request",
          405: "invalid_request", 413: "invalid_request", 415: "invalid_request", 422: "invalid_request",
          429: "temporarily_unavailable", 503: "temporarily_unavailable"}


def error_response(status, detail):
    """Errors under /oauth/ in RFC 6749's shape: `{"error", "error_description"}`."""
    response = jsonify(error=ERRORS.get(status, "server_error" if status >= 500 else "invalid_request"),
                       error_description=detail if isinstance(detail, str) else str(detail))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


register_error_format("/oauth/", error_response)


class ServerMetadataSchema(Schema):
    issuer = fields.String(required=True)
    authorization_endpoint = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    jwks_uri = fields.String()
    registration_endpoint = fields.String()
    revocation_endpoint = fields.String()
    scopes_supported = fields.List(fields.String())
    response_types_supported = fields.List(fields.String(), required=True)
    response_modes_supported = fields.List(fields.String())
    grant_types_supported = fields.List(fields.String())
    token_endpoint_auth_methods_supported = fields.List(fields.String())
    token_endpoint_auth_signing_alg_values_supported = fields.List(fields.String())
    revocation_endpoint_auth_methods_supported = fields.List(fields.String())
    code_challenge_methods_supported = fields.List(fields.String())
    client_id_metadata_document_supported = fields.Boolean()
    service_documentation = fields.String()
    id_token_signing_alg_values_supported = fields.List(fields.String())
    subject_types_supported = fields.List(fields.String())
    claims_supported = fields.List(fields.String())


class JwkSchema(Schema):
    kty = fields.String(required=True)
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    n = fields.String()
    e = fields.String()


class JwkSetSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class ResourceMetadataSchema(Schema):
    resource = fields.String(required=True)
    authorization_servers = fields.List(fields.String(), required=True)
    scopes_supported = fields.List(fields.String())
    bearer_methods_supported = fields.List(fields.String())
    resource_name = fields.String()
    resource_documentation = fields.String()


@blp.route("/oauth-authorization-server")
class ServerMetadata(MethodView):
    @blp.response(200, ServerMetadataSchema)
    def get(self):
        """The authorization server's metadata (RFC 8414): its endpoints, scopes and methods."""
        return metadata.server_metadata()


@blp.route("/openid-configuration")
class OpenIdConfiguration(MethodView):
    @blp.response(200, ServerMetadataSchema)
    def get(self):
        """The same metadata as OpenID Connect Discovery's document, for SMART apps that sign in."""
        return metadata.server_metadata()


@blp.route("/jwks.json")
class SigningKeys(MethodView):
    @blp.response(200, JwkSetSchema)
    def get(self):
        """The public key (a JWK Set, RFC 7517) that id_tokens are signed with."""
        return idtoken.jwks()


@blp.route("/oauth-protected-resource")
class ResourceMetadata(MethodView):
    @blp.response(200, ResourceMetadataSchema)
    def get(self):
        """`/mcp` as a protected resource (RFC 9728): which authorization server issues its tokens."""
        return metadata.resource_metadata()


@blp.route("/oauth-protected-resource/mcp")
class McpResourceMetadata(MethodView):
    @blp.response(200, ResourceMetadataSchema)
    def get(self):
        """The same document at the path-suffixed address RFC 9728 and MCP clients try first."""
        return metadata.resource_metadata()


@bp.post("/token")
def token():
    """RFC 6749 token endpoint: `authorization_code` (with the PKCE verifier) and `refresh_token`."""
    return authorization.server().create_token_response()


@bp.post("/register")
@limiter.limit(config_limit("OAUTH_REGISTER_RATE_LIMIT"), key_func=ip_key, override_defaults=False)
def register():
    """RFC 7591 dynamic client registration (open, bounded)."""
    return authorization.server().create_endpoint_response("client_registration")


@bp.post("/revoke")
def revoke():
    """RFC 7009 token revocation."""
    return authorization.server().create_endpoint_response("revocation")


@smart.get("/fhir/R4/.well-known/smart-configuration")
def smart_configuration():
    """SMART's discovery document for the FHIR endpoint: how a backend client gets a token."""
    return jsonify(metadata.smart_configuration())
