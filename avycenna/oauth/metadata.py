"""The metadata documents: the authorization server's (RFC 8414, also served as OpenID Connect
Discovery's), each protected resource's (RFC 9728) and SMART's configuration, from what the
server supports."""
from avycenna.http import public_url
from avycenna.oauth.backend import PrivateKeyJWT
from avycenna.oauth.common import (
    ASSERTION_ALGORITHMS, AUTH_METHODS, BACKEND_SCOPES, DEFAULT_SCOPE, GRANT_TYPES, OPENID_SCOPES, PATIENT_SCOPES,
    SCOPES, issuer, mcp_resource
)
from avycenna.oauth.idtoken import ALGORITHM

# OpenID Connect (for SMART apps' `openid fhirUser`): where the id_token's key is, and what it holds.
OPENID = {
    "id_token_signing_alg_values_supported": [ALGORITHM],
    "subject_types_supported": ["public"],
    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "fhirUser"],
}


def server_metadata():
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": issuer(),
        "authorization_endpoint": public_url("/oauth/authorize"),
        "token_endpoint": public_url("/oauth/token"),
        "registration_endpoint": public_url("/oauth/register"),
        "revocation_endpoint": public_url("/oauth/revoke"),
        "jwks_uri": public_url("/.well-known/jwks.json"),
        "scopes_supported": list(SCOPES) + list(PATIENT_SCOPES) + list(OPENID_SCOPES) + list(BACKEND_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS + [PrivateKeyJWT.CLIENT_AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": True,
        "service_documentation": public_url("/docs"),
        **OPENID,
    }


def smart_configuration():
    """SMART App Launch's `.well-known/smart-configuration` of the FHIR endpoint (backend services)."""
    return {
        "issuer": issuer(),
        "authorization_endpoint": public_url("/oauth/authorize"),
        "token_endpoint": public_url("/oauth/token"),
        "registration_endpoint": public_url("/oauth/register"),
        "jwks_uri": public_url("/.well-known/jwks.json"),
        "token_endpoint_auth_methods_supported": AUTH_METHODS + [PrivateKeyJWT.CLIENT_AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "scopes_supported": list(PATIENT_SCOPES) + list(OPENID_SCOPES) + ["offline_access"] + list(BACKEND_SCOPES),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "revocation_endpoint": public_url("/oauth/revoke"),
        "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric",
                         "client-confidential-asymmetric", "context-standalone-patient", "permission-patient",
                         "permission-offline", "permission-v1", "permission-v2", "sso-openid-connect"],
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
