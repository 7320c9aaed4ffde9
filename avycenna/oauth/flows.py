"""The flows a person's clients use: authorization code with PKCE (S256 only, single-use codes),
refresh-token rotation with reuse detection, and revocation (RFC 7009)."""
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import current_app, g

from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.oauth.common import (
    AUTH_METHODS, DEFAULT_SCOPE, InvalidTargetError, NOT_GRANTED, OPENID_SCOPES, PATIENT_SCOPES, SCOPES, canonical, digest,
    fhir_resource, mcp_resource
)
from avycenna.oauth.models import OAuthCode, OAuthConnection, OAuthToken
from avycenna.oauth.rows import Code, Token, connection_live, revoke_connection


# Grants -----------------------------------------------------------------------------------

def requested_resource(oauth_request, resource=None):
    """The one `resource` of a request (RFC 8707), canonical: `resource` (by default the MCP
    endpoint) when none is given; anything else is `invalid_target`."""
    resource = resource or mcp_resource()
    values = oauth_request.payload.datalist.get("resource", [])
    if len(values) > 1:
        raise InvalidTargetError("Give one 'resource': tokens here are for one resource.")
    wanted = canonical(values[0]) if values else canonical(resource)
    if wanted != canonical(resource):
        raise InvalidTargetError(f"These tokens are for {resource} only.")
    return wanted


def authorize_resource(oauth_request):
    """The resource an authorization request is for: `resource` (RFC 8707) or SMART's `aud`, this
    server's `/mcp` (the default) or its FHIR endpoint; anything else is `invalid_target`."""
    data = oauth_request.payload.datalist
    values = {canonical(v) for v in data.get("resource", []) + data.get("aud", [])}
    if len(values) > 1:
        raise InvalidTargetError("Give one resource (resource or aud).")
    wanted = values.pop() if values else canonical(mcp_resource())
    if wanted not in (canonical(mcp_resource()), canonical(fhir_resource())):
        raise InvalidTargetError(f"Tokens here are for {mcp_resource()} or {fhir_resource()} only.")
    return wanted


def person_scope(asked, resource):
    """The scopes a person grants on the consent page for `resource`, from those asked; `invalid_scope`
    for one they cannot grant there. For FHIR (SMART standalone) a patient/ scope is needed."""
    asked = [s for s in dict.fromkeys((asked or "").split()) if s not in NOT_GRANTED]
    if resource == canonical(fhir_resource()):
        grantable = set(PATIENT_SCOPES) | set(OPENID_SCOPES) | {"offline_access"}
        default = "launch/patient patient/*.rs"
    else:  # an assistant's token for /mcp: OpenID Connect is for SMART apps, left out here
        asked = [s for s in asked if s not in OPENID_SCOPES]
        grantable, default = set(SCOPES), DEFAULT_SCOPE
    if not set(asked) <= grantable:
        raise InvalidScopeError(description="A person can grant here only: " + ", ".join(sorted(grantable)) + ".")
    scope = " ".join(asked) or default
    if resource == canonical(fhir_resource()) and not {"patient/*.rs", "patient/*.read"} & set(scope.split()):
        raise InvalidScopeError(description="Ask for patient/*.rs (or patient/*.read) to read a patient.")
    return scope


def needs_patient(scope):
    return any(s.startswith("patient/") or s == "launch/patient" for s in scope.split())


class S256Only(CodeChallenge):
    """PKCE required on every authorization request, with S256 (OAuth 2.1: no `plain`)."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, oauth_request):
        """The code of the connection the consent page just made (`g.oauth_connection`), with
        OpenID Connect's nonce and the time the person signed in (`g.signed_in_at`)."""
        now = utcnow()
        ttl = timedelta(seconds=int(current_app.config["OAUTH_CODE_TTL"]))
        OAuthCode.create(code_hash=digest(code), connection=g.oauth_connection,
                         redirect_uri=oauth_request.payload.redirect_uri or "",
                         code_challenge=oauth_request.payload.data.get("code_challenge"),
                         nonce=oauth_request.payload.data.get("nonce"), auth_time=g.get("signed_in_at"),
                         created_at=now, expires_at=now + ttl)

    def query_authorization_code(self, code, client):
        """Claim the code (once, by a conditional update). A code presented again revokes the
        connection, and so every token its first exchange issued (RFC 6749 §4.1.2)."""
        row = (OAuthCode.select(OAuthCode, OAuthConnection).join(OAuthConnection)
               .where(OAuthCode.code_hash == digest(code or "")).first())
        if row is None or row.connection.client_id != client.client_id:
            return None
        claimed = OAuthCode.update(used_at=utcnow()).where(
            (OAuthCode.id == row.id) & OAuthCode.used_at.is_null()).execute() == 1
        if not claimed:
            if revoke_connection(row.connection_id, "code_reuse"):
                record("oauth.code_reuse", outcome="denied", user_id=row.connection.user_id,
                       target_type="oauth_connection", target_id=row.connection_id, client_id=client.client_id)
            return None
        if row.expires_at <= utcnow() or not connection_live(row.connection):
            return None
        return Code(row)

    def validate_token_request(self):
        super().validate_token_request()
        requested_resource(self.request, self.request.authorization_code.row.connection.resource)

    def delete_authorization_code(self, authorization_code):
        """Nothing: the code was claimed when it was read, and stays as the mark of its use."""

    def authenticate_user(self, authorization_code):
        user = authorization_code.row.connection.user
        return user if user.is_active else None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        """Claim the refresh token (once). A used one presented again revokes its connection."""
        row = (OAuthToken.select(OAuthToken, OAuthConnection).join(OAuthConnection)
               .where(OAuthToken.refresh_hash == digest(refresh_token or "")).first())
        client = self.request.client
        if row is None or client is None or row.connection.client_id != client.client_id:
            return None
        if row.refresh_used_at is None:
            if row.revoked_at is not None or row.refresh_expires_at <= utcnow() \
                    or not connection_live(row.connection):
                return None
            claimed = OAuthToken.update(refresh_used_at=utcnow(), revoked_at=utcnow()).where(
                (OAuthToken.id == row.id) & OAuthToken.refresh_used_at.is_null()).execute() == 1
            if claimed:
                return Token(row, "refresh_token")
        if revoke_connection(row.connection_id, "refresh_reuse"):
            record("oauth.refresh_reuse", outcome="denied", user_id=row.connection.user_id,
                   target_type="oauth_connection", target_id=row.connection_id, client_id=client.client_id)
        return None

    def validate_token_request(self):
        super().validate_token_request()
        requested_resource(self.request, self.request.refresh_token.row.connection.resource)

    def authenticate_user(self, refresh_token):
        user = refresh_token.row.connection.user
        return user if user.is_active else None

    def revoke_old_credential(self, refresh_token):
        """Nothing more: claiming the token already ended it and its access token."""


class Revocation(RevocationEndpoint):
    """RFC 7009: revoking a token ends its connection (the client is disconnected)."""
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        if not isinstance(token_string, str) or len(token_string) > 200:
            return None
        hashed = digest(token_string)
        row = OAuthToken.select(OAuthToken, OAuthConnection).join(OAuthConnection).where(
            (OAuthToken.access_hash == hashed) | (OAuthToken.refresh_hash == hashed)).first()
        if row is None:
            return None
        return Token(row, "refresh_token" if row.refresh_hash == hashed else "access_token")

    def authenticate_token(self, oauth_request, client):
        """An unknown token, or one of another client, is answered 200 as RFC 7009 §2.2 says."""
        self.check_params(oauth_request, client)
        token = self.query_token(oauth_request.form["token"], oauth_request.form.get("token_type_hint"))
        return token if token is not None and token.check_client(client) else None

    def revoke_token(self, token, oauth_request):
        """Either token ends the whole connection (RFC 7009 §2.1 allows it for an access token)."""
        revoke_connection(token.row.connection_id, "client")
        record("oauth.revoke", user_id=token.row.connection.user_id, target_type="oauth_connection",
               target_id=token.row.connection_id, client_id=token.row.connection.client_id, token=token.kind)
