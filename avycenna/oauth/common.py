"""What the authorization server's parts share: token prefixes, the resources a token is bound
to (RFC 8707), the scopes in words, the bounds on registration, and the 401 challenge."""
import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import current_app

from avycenna.clock import utcnow
from avycenna.http import public_url





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
# OpenID Connect, for SMART apps (FHIR only): the token response then carries an id_token.
OPENID_SCOPES = {
    "openid": "Learn who signed in: your account's id, in a signed statement from AVYCENNA.",
    "fhirUser": "See which FHIR record is you (your own patient record, if you have one).",
}
# Asked for by some apps, not granted here (no name or e-mail in the id_token): left out of the token.
NOT_GRANTED = ("profile", "email")
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


def connection_expiry():
    """When an approval made now ends (OAUTH_CONNECTION_TTL)."""
    return utcnow() + timedelta(seconds=int(current_app.config["OAUTH_CONNECTION_TTL"]))
