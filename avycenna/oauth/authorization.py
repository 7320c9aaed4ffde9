"""The authorization server itself: authlib's Flask server with our flows, client
authentication, token generator and registration; `server()` is the app's one instance."""
import secrets
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from flask import current_app, request as flask_request

from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.oauth.backend import BackendServicesGrant, PrivateKeyJWT, backend_connection
from avycenna.oauth.common import (
    ACCESS_PREFIX, BACKEND_SCOPES, NOT_GRANTED, OPENID_SCOPES, PATIENT_SCOPES, REFRESH_PREFIX, SCOPES, digest
)
from avycenna.oauth.flows import AuthorizationCodeGrant, RefreshTokenGrant, Revocation, S256Only
from avycenna.oauth.idtoken import OpenIDCode
from avycenna.oauth.models import OAuthToken
from avycenna.oauth.registration import Registration, StrictJsonRequest
from avycenna.oauth.rows import query_client


class AuthorizationServer(FlaskAuthorizationServer):
    def create_json_request(self, _request):
        return StrictJsonRequest(flask_request)


def _token_generator(config):
    def generate(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        token = {"token_type": "Bearer", "access_token": ACCESS_PREFIX + secrets.token_urlsafe(32),
                 "expires_in": int(config["OAUTH_ACCESS_TOKEN_TTL"]), "scope": scope or ""}
        if include_refresh_token and "offline_access" in (scope or "").split():
            token["refresh_token"] = REFRESH_PREFIX + secrets.token_urlsafe(32)
        return token
    return generate


def save_token(token, oauth_request):
    """Store the issued token's hashes on the connection it descends from."""
    source = getattr(oauth_request, "authorization_code", None) or getattr(oauth_request, "refresh_token", None)
    connection = source.row.connection if source is not None else backend_connection(oauth_request.client.row)
    now = utcnow()
    access_until = min(now + timedelta(seconds=token["expires_in"]), connection.expires_at)
    refresh = token.get("refresh_token")
    refresh_until = min(now + timedelta(seconds=int(current_app.config["OAUTH_REFRESH_TOKEN_TTL"])),
                        connection.expires_at) if refresh else None
    OAuthToken.create(connection=connection, access_hash=digest(token["access_token"]),
                      refresh_hash=digest(refresh) if refresh else None, scope=token["scope"],
                      issued_at=now, access_expires_at=access_until, refresh_expires_at=refresh_until)
    if connection.patient_id:  # SMART launch context
        token["patient"] = connection.patient_id
    record("oauth.token", user_id=connection.user_id, target_type="oauth_connection", target_id=connection.id,
           client_id=connection.client_id, grant_type=oauth_request.payload.grant_type)


def init_app(app):
    server = AuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.scopes_supported = (list(SCOPES) + list(PATIENT_SCOPES) + list(OPENID_SCOPES) + list(BACKEND_SCOPES)
                               + list(NOT_GRANTED))
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server.register_token_generator("default", _token_generator(app.config))
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCode(require_nonce=False)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(BackendServicesGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)
    app.extensions["avycenna_oauth"] = server


def server():
    return current_app.extensions["avycenna_oauth"]
