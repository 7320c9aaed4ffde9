"""Dynamic client registration (RFC 7591), bounded: a strict JSON body, a few redirect URIs
(https, or loopback for native apps), short names."""
import json
import secrets

from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2.rfc6749 import JsonPayload
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint

from avycenna import jsonbody
from avycenna.audit.service import record
from avycenna.oauth.client_metadata import check_client_metadata, stored_scope
from avycenna.oauth.common import AUTH_METHODS, MAX_NAME_LENGTH, digest
from avycenna.oauth.metadata import server_metadata
from avycenna.oauth.models import OAuthClient


class StrictBody(JsonPayload):
    def __init__(self, data):
        self._data = data

    @property
    def data(self):
        return self._data


class StrictJsonRequest(FlaskJsonRequest):
    """authlib's JSON request, its body read by the strict reader like every other body."""

    def __init__(self, flask_request):
        super().__init__(flask_request)
        body = jsonbody.request_body()
        self.payload = StrictBody(body if isinstance(body, dict) else {})


class Registration(ClientRegistrationEndpoint):
    """RFC 7591 dynamic registration, open (as the MCP authorization spec expects) and bounded:
    public clients or secret-holding ones, authorization code and refresh only, a few redirect
    URIs that are https or loopback http."""

    def authenticate_token(self, oauth_request):
        return True  # open registration: a client is only a name and its redirect URIs

    def get_server_metadata(self):
        return server_metadata()

    def extract_client_metadata(self, oauth_request):
        check_client_metadata(oauth_request.payload.data, AUTH_METHODS)
        return super().extract_client_metadata(oauth_request)

    def generate_client_info(self, oauth_request):
        info = super().generate_client_info(oauth_request)
        if info["client_secret"] is None:  # a public client: no secret, and none said
            del info["client_secret"], info["client_secret_expires_at"]
        return info

    def generate_client_id(self, oauth_request):
        from avycenna.ids import new_id

        return new_id("cli")

    def generate_client_secret(self, oauth_request):
        method = oauth_request.payload.data.get("token_endpoint_auth_method", "client_secret_basic")
        return None if method == "none" else secrets.token_urlsafe(32)

    def save_client(self, client_info, client_metadata, oauth_request):
        method = client_metadata.get("token_endpoint_auth_method", "client_secret_basic")
        scope = stored_scope(client_metadata)
        row = OAuthClient.create(
            id=client_info["client_id"], name=(client_metadata.get("client_name") or "Unnamed app")[:MAX_NAME_LENGTH],
            client_uri=client_metadata.get("client_uri"), redirect_uris=json.dumps(client_metadata["redirect_uris"]),
            grant_types=" ".join(client_metadata.get("grant_types") or ["authorization_code"]),
            scope=scope, token_endpoint_auth_method=method,
            secret_hash=digest(client_info["client_secret"]) if client_info.get("client_secret") else None)
        record("oauth.client_register", target_type="oauth_client", target_id=row.id, method=method)
        return row
