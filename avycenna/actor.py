"""Who is calling: one credential per request, resolved once, before rate limiting.

Order (SPEC "People and credentials"): `X-API-Key: avk_…` or `Authorization:
Bearer avk_…`, then `Authorization: Bearer <JWT>`, then `Authorization: Bearer
<encounter token>` (accepted only by the agent encounter endpoints, which verify
it themselves). A credential that is present but invalid is a 401 everywhere,
even where anonymous callers are allowed, and so are two credentials at once
(`X-API-Key` and `Authorization`: which one acts is ambiguous). The browser session cookie is never
looked at here.
"""
from dataclasses import dataclass
from functools import wraps
from typing import Optional

from flask import g

from avycenna.api_keys.service import resolve_key, touch
from avycenna.auth.tokens import decode_access_token
from avycenna.auth.users import user_by_id
from avycenna.errors import ApiError, fail
from avycenna.oauth.common import ACCESS_PREFIX, MCP_PATH, REFRESH_PREFIX, challenge_header
from avycenna.oauth.service import resolve_access_token

AUTH_HEADER = {"WWW-Authenticate": 'Bearer realm="avycenna"'}

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "15-minute access token from login, OTP verify or refresh."},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                   "description": "Personal API key `avk_…` (also accepted as `Authorization: Bearer avk_…`)."},
    "encounterToken": {"type": "http", "scheme": "bearer",
                       "description": "64-character encounter token from `POST /agent/query`; "
                                      "only the agent encounter endpoints accept it."},
}
USER_SECURITY = [{"bearerAuth": []}, {"apiKeyAuth": []}]


@dataclass
class Actor:
    kind: str  # "user" (JWT), "api_key", "oauth" (an assistant's token), "encounter" (raw token, unverified), "anonymous"
    user: Optional[object] = None
    api_key: Optional[object] = None
    encounter_token: Optional[str] = None
    claims: Optional[dict] = None  # a JWT's verified claims
    oauth_token: Optional[object] = None  # an OAuth access token's row (its connection names the client)

    @property
    def client_id(self):
        """The OAuth client acting for the account, if any."""
        return self.oauth_token.connection.client_id if self.oauth_token is not None else None

    @property
    def is_user(self):
        """Signed in as an account (JWT or API key)."""
        return self.user is not None

    @property
    def role(self):
        return self.user.role if self.user is not None else None


def _presented(request):
    """(kind, value) of the credential on `request`, or (None, None)."""
    # The WSGI keys `request.headers` reads, read directly: its lookup raises and catches when absent.
    api_key = request.environ.get("HTTP_X_API_KEY")
    header = request.environ.get("HTTP_AUTHORIZATION")
    if api_key is not None and header is not None:
        return "ambiguous", None
    if api_key is not None:
        return "api_key", api_key.strip()
    if header is None:
        return None, None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return "invalid", None
    if value.startswith("avk_"):
        return "api_key", value
    if value.startswith(ACCESS_PREFIX):
        return "oauth", value
    if value.startswith(("avr_", REFRESH_PREFIX)):
        return "refresh", value
    if value.count(".") == 2:
        return "jwt", value
    return "encounter", value


def _resolve(request):
    kind, value = _presented(request)
    if kind is None:
        return Actor("anonymous"), None
    if kind == "api_key":
        row = resolve_key(value)
        if row is None or not row.user.is_active:
            return Actor("anonymous"), "Invalid or revoked API key."
        touch(row)
        return Actor("api_key", user=row.user, api_key=row), None
    if kind == "jwt":
        claims = decode_access_token(value)
        user = claims and user_by_id(claims["sub"])
        if not user or not user.is_active:
            return Actor("anonymous"), "Invalid or expired token."
        return Actor("user", user=user, claims=claims), None
    if kind == "oauth":
        row, error = resolve_access_token(value, request.path, request.environ)
        if row is None:
            return Actor("anonymous"), error
        return Actor("oauth", user=row.connection.user, oauth_token=row), None
    if kind == "encounter":
        return Actor("encounter", encounter_token=value), None
    if kind == "ambiguous":
        return Actor("anonymous"), "Send one credential: X-API-Key or Authorization, not both."
    if kind == "refresh":
        return Actor("anonymous"), "A refresh token is not an access token; use it where it was issued."
    return Actor("anonymous"), "Unsupported authorization scheme; use Bearer."


def load_actor(request, g):
    """Before every request: resolve the credential into `g.actor`."""
    g.actor, g.auth_error = _resolve(request)


# Only these endpoints take an encounter token (MCP: on the connection, for the encounter tools,
# whose REST twins verify it); /health and the docs ignore credentials.
ENCOUNTER_TOKEN_PATHS = ("/api/v1/agent/encounters/", "/mcp")
# The OAuth endpoints read their own client credentials (HTTP Basic on /oauth/token …).
CREDENTIAL_FREE_PATHS = ("/health", "/docs", "/redoc", "/openapi.json", "/oauth/")


def challenge(request):
    """The `WWW-Authenticate` of a 401: on `/mcp`, where to get a token (RFC 9728)."""
    if request.path == MCP_PATH or request.path.startswith(MCP_PATH + "/"):
        return {"WWW-Authenticate": challenge_header("invalid_token")}
    return AUTH_HEADER


def reject_invalid_credentials(request, g):
    """After rate limiting: a present-but-invalid credential is a 401.

    A bearer that is neither a JWT nor a key can only be an encounter token, and
    those are accepted by the agent encounter endpoints alone (which verify it).
    """
    if request.path.startswith(CREDENTIAL_FREE_PATHS):
        return
    if getattr(g, "auth_error", None):
        fail(401, g.auth_error, challenge(request))
    if g.actor.kind == "encounter" and not request.path.startswith(ENCOUNTER_TOKEN_PATHS):
        fail(401, "Encounter tokens are accepted only by the agent encounter endpoints.", AUTH_HEADER)


def current_actor():
    return g.actor


def current_user():
    return g.actor.user


def auth_required(*roles):
    """View decorator: an account (JWT or API key) is needed, with one of `roles` if given.

    No credential → 401; an encounter token here → 401; the wrong role → 403.
    Also documents the security requirement in the OpenAPI spec.
    """
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = g.actor
            if not actor.is_user:
                if actor.kind == "encounter":
                    fail(401, "Encounter tokens are accepted only by the agent encounter endpoints.",
                         AUTH_HEADER)
                fail(401, "Authentication required.", AUTH_HEADER)
            if roles and actor.user.role not in roles:
                fail(403, "Your role does not allow this.")
            return view(*args, **kwargs)

        doc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual["security"] = USER_SECURITY
        responses = dict(manual.get("responses", {}))
        responses.setdefault(401, "UNAUTHORIZED")  # a name: registers the lazy component
        if roles:
            responses.setdefault(403, "FORBIDDEN")
        manual["responses"] = responses
        doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return wrapper
    return decorator


__all__ = ["Actor", "ApiError", "auth_required", "current_actor", "current_user", "ip_hash"]
