"""The OAuth 2.1 authorization server, on authlib's Flask server: its grants, its rows, its rules.

authlib does the protocol (request parsing and validation, PKCE, client authentication, the
RFC 6749 error bodies, RFC 7591 metadata checks, RFC 7009 revocation); this module gives it
the rows and adds what OAuth 2.1 and the MCP authorization spec ask beyond it:

- **Authorization code with PKCE, S256 only** (`S256Only`): no code without a challenge.
- **Single-use codes**: a code is claimed by a conditional update when it is exchanged; a
  second exchange finds it claimed and revokes the connection (every token the first issued).
- **Refresh-token rotation with reuse detection**: each refresh claims its token (conditional
  update) and issues the next; a refresh token presented again revokes the connection.
- **Resource indicators (RFC 8707)**: a token is bound to one resource, this server's `/mcp`;
  a `resource` naming anything else is `invalid_target`, and a token used elsewhere is refused.
- **Secrets only as hashes**: codes, access and refresh tokens and client secrets are stored
  as SHA-256 digests.

A connection (`OAuthConnection`) is one approval on the consent page; the person sees and
revokes it on their account page, and `resolve_access_token` asks for it on every request,
so a revoke ends its tokens on the next one.
"""
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, JsonPayload, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import (InvalidClientError, InvalidRequestError, InvalidScopeError, OAuth2Error,
                                           UnauthorizedClientError)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import current_app, g, request as flask_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from peewee import IntegrityError

from avycenna import jsonbody
from avycenna.audit.service import record
from avycenna.auth.models import User
from avycenna.clock import EPOCH, utcnow
from avycenna.db import database, write_transaction
from avycenna.errors import fail
from avycenna.http import public_url
from avycenna.oauth.models import OAuthAssertion, OAuthClient, OAuthCode, OAuthConnection, OAuthToken

ACCESS_PREFIX = "avat_"
REFRESH_PREFIX = "avrt_"
# The resource the tokens are for: the MCP endpoint (RFC 8707; its RFC 9728 metadata).
MCP_PATH = "/mcp"
# A WSGI environ key no client can send: set on the in-process request an MCP tool call makes
# for its REST twin, so a token bound to `/mcp` acts there as on `/mcp` itself.
VIA_MCP = "avycenna.via_mcp"

# What each scope lets the client do, in words for the consent page.
SCOPES = {
    "mcp": "Act for your account through AVYCENNA's assistant tools: list and add patients, open and follow "
           "encounters with the clinic's physicians, read your subscription and patients' wearable summaries.",
    "offline_access": "Stay connected without asking you again (until the connection expires or you revoke it).",
}
DEFAULT_SCOPE = "mcp"
# SMART App Launch, standalone: a patient-facing app reads one of the person's patients over FHIR.
PATIENT_SCOPES = {
    "launch/patient": "Ask you which patient it is about (you choose one below).",
    "patient/*.rs": "Read that patient's record over FHIR: who they are, measurements, encounters and messages.",
    "patient/*.read": "The same, in SMART v1's words.",
}
# Asked for by SMART apps, not granted here (no OpenID Connect id_token yet): left out of the token.
NOT_GRANTED = ("openid", "fhirUser", "profile")
AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
# SMART Backend Services: an EHR connector registered by an admin for a clinician account reads
# FHIR as that clinician (client credentials, signed assertion).
FHIR_PATH = "/fhir/R4"
BACKEND_SCOPES = {
    "system/*.rs": "read and search every resource type, as far as the clinician's grants allow (SMART v2)",
    "system/*.read": "the same, in SMART v1's words",
}
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
MAX_ASSERTION_LIFETIME = 300  # seconds: SMART asks for an `exp` at most five minutes ahead
MAX_JWKS_KEYS = 10
# Bounds on what a client may register (RFC 7591 leaves them to the server).
MAX_REDIRECT_URIS = 5
MAX_URI_LENGTH = 2048
MAX_NAME_LENGTH = 200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def issuer():
    """This server's issuer identifier (RFC 8414): its public base URL, no trailing slash."""
    return public_url("")


def mcp_resource():
    return public_url(MCP_PATH)


def fhir_resource():
    return public_url(FHIR_PATH)


def canonical(uri):
    """A resource URI compared case-insensitively in scheme and host, without a trailing slash
    ("" for text that is no URI)."""
    try:
        parts = urlsplit(uri or "")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def resource_metadata_url(path=MCP_PATH):
    """Where the protected resource metadata of `path` is (RFC 9728, path-suffixed form)."""
    return public_url("/.well-known/oauth-protected-resource" + path)


def challenge_header(error=None, description=None):
    """`WWW-Authenticate` for `/mcp` (RFC 6750, RFC 9728): where to find how to get a token."""
    parts = [f'resource_metadata="{resource_metadata_url()}"', f'scope="{DEFAULT_SCOPE}"']
    if error:
        parts.insert(0, f'error="{error}"')
        if description:
            parts.insert(1, 'error_description="' + description.replace('"', "'") + '"')
    return "Bearer " + ", ".join(parts)


class InvalidTargetError(OAuth2Error):
    """RFC 8707: the `resource` is not one this server issues tokens for."""
    error = "invalid_target"
    status_code = 400


# authlib's views of the rows ------------------------------------------------------------

class Client(ClientMixin):
    def __init__(self, row):
        self.row = row
        self.client_id = row.id

    def get_client_id(self):
        return self.row.id

    def get_default_redirect_uri(self):
        uris = self.row.redirect_uri_list
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        allowed = set((self.row.scope or " ".join(SCOPES)).split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uri_list

    def check_client_secret(self, client_secret):
        return bool(self.row.secret_hash) and hmac.compare_digest(self.row.secret_hash, digest(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in self.row.grant_types.split()


class Code(AuthorizationCodeMixin):
    def __init__(self, row):
        self.row = row

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.connection.scope


class Token(TokenMixin):
    def __init__(self, row, kind):
        self.row, self.kind = row, kind

    def check_client(self, client):
        return self.row.connection.client_id == client.client_id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int((self.row.access_expires_at - self.row.issued_at).total_seconds())

    def is_expired(self):
        return self.row.access_expires_at <= utcnow()

    def is_revoked(self):
        return self.row.revoked_at is not None


def query_client(client_id):
    if not isinstance(client_id, str) or len(client_id) > 64:
        return None
    row = OAuthClient.get_or_none((OAuthClient.id == client_id) & OAuthClient.disabled_at.is_null())
    return Client(row) if row is not None else None


def connection_live(connection):
    return connection.revoked_at is None and connection.expires_at > utcnow() and connection.user.is_active


def revoke_connection(connection_id, reason):
    """End a connection and every token of it (a conditional update: once)."""
    now = utcnow()
    ended = OAuthConnection.update(revoked_at=now, revoked_reason=reason).where(
        (OAuthConnection.id == connection_id) & OAuthConnection.revoked_at.is_null()).execute()
    OAuthToken.update(revoked_at=now).where(
        (OAuthToken.connection == connection_id) & OAuthToken.revoked_at.is_null()).execute()
    return ended == 1


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
        grantable, default = set(PATIENT_SCOPES) | {"offline_access"}, "launch/patient patient/*.rs"
    else:
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
        """The code of the connection the consent page just made (`g.oauth_connection`)."""
        now = utcnow()
        ttl = timedelta(seconds=int(current_app.config["OAUTH_CODE_TTL"]))
        OAuthCode.create(code_hash=digest(code), connection=g.oauth_connection,
                         redirect_uri=oauth_request.payload.redirect_uri or "",
                         code_challenge=oauth_request.payload.data.get("code_challenge"),
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


class PrivateKeyJWT(JWTBearerClientAssertion):
    """`private_key_jwt` client authentication (RFC 7523, SMART Backend Services): an assertion
    signed RS384 or ES384 by a key in the client's registered JWKS, for this token endpoint
    (`aud`), at most five minutes ahead (`exp`), its `jti` used once."""
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        return [public_url("/oauth/token")]

    def resolve_client_public_key(self, client):
        try:
            return KeySet.import_key_set(json.loads(client.row.jwks or '{"keys": []}'))
        except (ValueError, JoseError):
            raise InvalidClientError(description="The client has no usable public keys.") from None

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description="The assertion's signature does not verify with the "
                                                 "client's keys (RS384 or ES384).") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims):
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp - (utcnow() - EPOCH).total_seconds() > MAX_ASSERTION_LIFETIME + self.leeway:
            raise InvalidClientError(description="The assertion must expire within five minutes.")
        super().verify_claims(claims)

    def validate_jti(self, claims, jti):
        """Record the `jti` (once: a primary key); False when it was seen before."""
        if not isinstance(jti, str) or not 1 <= len(jti) <= 255:
            return False
        expires = EPOCH + timedelta(seconds=int(claims["exp"]) + self.leeway)
        try:
            with database.atomic():
                OAuthAssertion.create(id=digest(f"{claims['iss']}\n{jti}"), client=claims["iss"], expires_at=expires)
        except IntegrityError:
            record("oauth.assertion_replay", outcome="denied", target_type="oauth_client", target_id=claims["iss"])
            return False
        return True


class BackendServicesGrant(grants.ClientCredentialsGrant):
    """SMART Backend Services: client credentials for a client an admin registered for a
    clinician, with `system/` scopes, for the FHIR endpoint. The token reads as that clinician."""
    TOKEN_ENDPOINT_AUTH_METHODS = [PrivateKeyJWT.CLIENT_AUTH_METHOD]

    def validate_token_request(self):
        super().validate_token_request()
        asked = set((self.request.payload.scope or "").split())
        if not asked or not asked <= set(self.client.row.scope.split()):
            raise InvalidScopeError(description="Ask for the system/ scopes this client was registered with.")
        requested_resource(self.request, fhir_resource())
        owner = self.client.row.owner
        if owner is None or not owner.is_active or owner.role != "clinician":
            raise UnauthorizedClientError(description="The clinician account of this client is not active.")


def backend_connection(client_row):
    """The standing connection of a backend client to its clinician (made when none is live)."""
    now = utcnow()
    row = (OAuthConnection.select().where((OAuthConnection.client == client_row.id)
                                          & OAuthConnection.revoked_at.is_null() & (OAuthConnection.expires_at > now))
           .order_by(OAuthConnection.created_at.desc()).first())
    if row is None:
        row = OAuthConnection.create(user=client_row.owner_id, client=client_row.id, scope=client_row.scope,
                                     resource=canonical(fhir_resource()), expires_at=connection_expiry())
    return row


def parse_jwks(text):
    """A client's public keys from JWKS text: RSA or P-384 EC public keys, each with a `kid`."""
    try:
        data = json.loads(text)
        keys = data["keys"]
        if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_JWKS_KEYS:
            raise ValueError
        for key in keys:
            if not isinstance(key, dict) or "d" in key or not key.get("kid") or key.get("kty") not in ("RSA", "EC"):
                raise ValueError
        KeySet.import_key_set(data)
    except (ValueError, KeyError, TypeError, JoseError):
        fail(422, f"The JWKS must be a JSON Web Key Set of 1 to {MAX_JWKS_KEYS} public RSA or EC keys, each "
                  "with a kid (no private parts).")
    return json.dumps(data)


def register_backend_client(owner, name, jwks_text, scope="system/*.rs"):
    """An admin's registration of an EHR connector for the clinician `owner`: (client row)."""
    if owner is None or owner.role != "clinician" or not owner.is_active:
        fail(422, "A backend client acts as an active clinician account.")
    if not 1 <= len(name or "") <= MAX_NAME_LENGTH:
        fail(422, f"The name must be 1 to {MAX_NAME_LENGTH} characters.")
    scopes = scope.split()
    if not scopes or not set(scopes) <= set(BACKEND_SCOPES):
        fail(422, "Scopes: " + ", ".join(BACKEND_SCOPES) + ".")
    row = OAuthClient.create(name=name, grant_types="client_credentials", scope=" ".join(scopes),
                             token_endpoint_auth_method=PrivateKeyJWT.CLIENT_AUTH_METHOD, registered_by="admin",
                             owner=owner, jwks=parse_jwks(jwks_text))
    record("oauth.client_register", target_type="oauth_client", target_id=row.id, method="private_key_jwt",
           owner_id=owner.id)
    return row


def disable_client(client_id):
    """Disable a client and end every connection it has (an admin's revoke); False if unknown."""
    with write_transaction():
        ended = OAuthClient.update(disabled_at=utcnow()).where(
            (OAuthClient.id == client_id) & OAuthClient.disabled_at.is_null()).execute() == 1
        for connection in OAuthConnection.select(OAuthConnection.id).where(OAuthConnection.client == client_id):
            revoke_connection(connection.id, "client_disabled")
    if ended:
        record("oauth.client_disable", target_type="oauth_client", target_id=client_id)
    return ended


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
    server.scopes_supported = list(SCOPES) + list(PATIENT_SCOPES) + list(BACKEND_SCOPES) + list(NOT_GRANTED)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server.register_token_generator("default", _token_generator(app.config))
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(BackendServicesGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)
    app.extensions["avycenna_oauth"] = server


def server():
    return current_app.extensions["avycenna_oauth"]


# Metadata ---------------------------------------------------------------------------------

def server_metadata():
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": issuer(),
        "authorization_endpoint": public_url("/oauth/authorize"),
        "token_endpoint": public_url("/oauth/token"),
        "registration_endpoint": public_url("/oauth/register"),
        "revocation_endpoint": public_url("/oauth/revoke"),
        "scopes_supported": list(SCOPES) + list(PATIENT_SCOPES) + list(BACKEND_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS + [PrivateKeyJWT.CLIENT_AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": public_url("/docs"),
    }


def smart_configuration():
    """SMART App Launch's `.well-known/smart-configuration` of the FHIR endpoint (backend services)."""
    return {
        "issuer": issuer(),
        "authorization_endpoint": public_url("/oauth/authorize"),
        "token_endpoint": public_url("/oauth/token"),
        "registration_endpoint": public_url("/oauth/register"),
        "token_endpoint_auth_methods_supported": AUTH_METHODS + [PrivateKeyJWT.CLIENT_AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "scopes_supported": list(PATIENT_SCOPES) + ["offline_access"] + list(BACKEND_SCOPES),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "revocation_endpoint": public_url("/oauth/revoke"),
        "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric",
                         "client-confidential-asymmetric", "context-standalone-patient", "permission-patient",
                         "permission-offline", "permission-v1", "permission-v2"],
    }


def resource_metadata():
    """RFC 9728 protected resource metadata of `/mcp`."""
    return {
        "resource": mcp_resource(),
        "authorization_servers": [issuer()],
        "scopes_supported": [DEFAULT_SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "AVYCENNA MCP server",
        "resource_documentation": public_url("/docs"),
    }


# The consent page and the account page ------------------------------------------------------

def scope_words(scope):
    words = {**SCOPES, **PATIENT_SCOPES}
    return [(name, words[name]) for name in (scope or "").split() if name in words]


def connection_expiry():
    return utcnow() + timedelta(seconds=int(current_app.config["OAUTH_CONNECTION_TTL"]))


def approve(user, client_id, scope, resource, patient_id=None):
    """The consent page's "Allow": a new connection for the code authlib then issues."""
    row = OAuthConnection.create(user=user, client=client_id, scope=scope, resource=resource,
                                 patient_id=patient_id, expires_at=connection_expiry())
    OAuthClient.update(first_connected_at=row.created_at).where(
        (OAuthClient.id == client_id) & OAuthClient.first_connected_at.is_null()).execute()
    record("oauth.consent", user_id=user.id, target_type="oauth_connection", target_id=row.id, client_id=client_id,
           scope=scope)
    g.oauth_connection = row
    return row


def connected_apps(user):
    """The live connections of `user`, newest first, with their clients."""
    return list(OAuthConnection.select(OAuthConnection, OAuthClient).join(OAuthClient)
                .where((OAuthConnection.user == user.id) & OAuthConnection.revoked_at.is_null()
                       & (OAuthConnection.expires_at > utcnow()))
                .order_by(OAuthConnection.created_at.desc()).limit(200))


def revoke_for_user(user, connection_id):
    """The person's revoke on the account page: only their own connection; True when it ended."""
    with write_transaction():
        row = OAuthConnection.get_or_none((OAuthConnection.id == connection_id) & (OAuthConnection.user == user.id))
        ended = row is not None and revoke_connection(row.id, "user")
    if ended:
        record("oauth.connection_revoke", user_id=user.id, target_type="oauth_connection", target_id=row.id,
               client_id=row.client_id)
    return ended


# Resolving a bearer token -----------------------------------------------------------------

def resolve_access_token(token, path, environ):
    """(token row with connection, client and user; None) for a live access token used at its
    resource, else (None, why)."""
    if len(token) > 200:
        return None, "Invalid or expired token."
    row = (OAuthToken.select(OAuthToken, OAuthConnection, User).join(OAuthConnection).join(User)
           .where(OAuthToken.access_hash == digest(token)).first())
    now = utcnow()
    if row is None or row.revoked_at is not None or row.access_expires_at <= now \
            or not connection_live(row.connection):
        return None, "Invalid or expired token."
    allowed = urlsplit(row.connection.resource).path.rstrip("/") or "/"
    at_resource = path == allowed or path.startswith(allowed + "/") or (allowed == MCP_PATH and environ.get(VIA_MCP))
    if not at_resource:
        return None, f"This token is for {row.connection.resource} only."
    if row.connection.patient_id and not about_patient(row.connection.patient_id, path, environ):
        return None, f"This token reads patient {row.connection.patient_id} only."
    return row, None


def about_patient(patient_id, path, environ):
    """Whether a FHIR request is about this one patient (a patient-bound SMART token's only reads):
    the CapabilityStatement, `Patient/{id}` and what is under it, or a search of another type whose
    every `patient` / `subject` names it. Anything else — $export, other patients — is refused."""
    base = FHIR_PATH + "/"
    if path in (FHIR_PATH + "/metadata", FHIR_PATH + "/.well-known/smart-configuration"):
        return True
    own = f"{base}Patient/{patient_id}"
    if path == own or path.startswith(own + "/"):
        return True
    rest = path[len(base):] if path.startswith(base) else ""
    if not rest or "/" in rest or rest.startswith(("$", "Patient")):
        return False
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    named = query.get("patient", []) + query.get("subject", [])
    return bool(named) and all(value in (patient_id, "Patient/" + patient_id) for value in named)


def purge_expired():
    """Delete codes past their expiry, spent assertion ids, connections that ended (their tokens go
    with them), and dynamically registered clients that never got a connection within a day."""
    now = utcnow()
    codes = OAuthCode.delete().where(OAuthCode.expires_at < now - timedelta(days=1)).execute()
    codes += OAuthAssertion.delete().where(OAuthAssertion.expires_at < now).execute()
    ended = OAuthConnection.delete().where(
        (OAuthConnection.expires_at < now) | (OAuthConnection.revoked_at < now - timedelta(days=30))).execute()
    unused = OAuthClient.delete().where((OAuthClient.registered_by == "dynamic")
                                        & (OAuthClient.created_at < now - timedelta(days=1))
                                        & OAuthClient.first_connected_at.is_null()).execute()
    return codes + ended + unused
