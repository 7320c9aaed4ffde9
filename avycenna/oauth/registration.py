"""Dynamic client registration (RFC 7591), bounded: a strict JSON body, a few redirect URIs
(https, or loopback for native apps), short names."""
import json
import secrets
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2.rfc6749 import JsonPayload
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint

from avycenna import jsonbody
from avycenna.audit.service import record
from avycenna.oauth.common import (
    AUTH_METHODS, LOOPBACK_HOSTS, MAX_NAME_LENGTH, MAX_REDIRECT_URIS, MAX_URI_LENGTH, SCOPES, digest
)
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
        data = oauth_request.payload.data
        uris = data.get("redirect_uris")
        if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
            raise RegistrationError(f"redirect_uris: give 1 to {MAX_REDIRECT_URIS} URIs.", "invalid_redirect_uri")
        for uri in uris:
            if not isinstance(uri, str) or not allowed_redirect(uri):
                raise RegistrationError("redirect_uris: each must be an https URI, or http on a loopback "
                                        f"address, of at most {MAX_URI_LENGTH} characters, with no fragment.",
                                        "invalid_redirect_uri")
        for name, limit in (("client_name", MAX_NAME_LENGTH), ("client_uri", MAX_URI_LENGTH),
                            ("scope", 500), ("logo_uri", MAX_URI_LENGTH)):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise RegistrationError(f"{name}: text of at most {limit} characters.")
        if data.get("token_endpoint_auth_method", "client_secret_basic") not in AUTH_METHODS:
            raise RegistrationError("token_endpoint_auth_method: one of " + ", ".join(AUTH_METHODS) + ".")
        grant_types = data.get("grant_types", ["authorization_code"])
        if not isinstance(grant_types, list) or not set(grant_types) <= {"authorization_code", "refresh_token"}:
            raise RegistrationError("grant_types: authorization_code and refresh_token only (backend clients are "
                                    "registered by an admin).")
        if not jsonbody.check_text(json.dumps(data)):
            raise RegistrationError("Text that cannot be stored.")
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
        scope = " ".join(s for s in (client_metadata.get("scope") or "").split() if s in SCOPES)
        row = OAuthClient.create(
            id=client_info["client_id"], name=(client_metadata.get("client_name") or "Unnamed app")[:MAX_NAME_LENGTH],
            client_uri=client_metadata.get("client_uri"), redirect_uris=json.dumps(client_metadata["redirect_uris"]),
            grant_types=" ".join(client_metadata.get("grant_types") or ["authorization_code"]),
            scope=scope, token_endpoint_auth_method=method,
            secret_hash=digest(client_info["client_secret"]) if client_info.get("client_secret") else None)
        record("oauth.client_register", target_type="oauth_client", target_id=row.id, method=method)
        return row


class RegistrationError(OAuth2Error):
    status_code = 400

    def __init__(self, description, error="invalid_client_metadata"):
        super().__init__(description=description)
        self.error = error


def allowed_redirect(uri):
    if len(uri) > MAX_URI_LENGTH or "#" in uri:
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.netloc)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
