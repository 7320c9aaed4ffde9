"""What the rest of the app calls on the OAuth 2.1 authorization server (authlib's Flask server):

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
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from flask import g

from avycenna.audit.service import record
from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import write_transaction
from avycenna.oauth.common import (FHIR_PATH, MCP_PATH, OPENID_SCOPES, PATIENT_SCOPES, SCOPES, VIA_MCP, connection_expiry, digest)
from avycenna.oauth.models import OAuthAssertion, OAuthClient, OAuthCode, OAuthConnection, OAuthToken
from avycenna.oauth.rows import connection_live, revoke_connection


# The consent page and the account page ------------------------------------------------------

def scope_words(scope):
    words = {**SCOPES, **PATIENT_SCOPES, **OPENID_SCOPES}
    return [(name, words[name]) for name in (scope or "").split() if name in words]


def approve(user, client_id, scope, resource, patient_id=None, fhir_user=None):
    """The consent page's "Allow": a new connection for the code authlib then issues.
    `fhir_user` ("Patient/<id>"): the person's own record, named in an OpenID id_token."""
    row = OAuthConnection.create(user=user, client=client_id, scope=scope, resource=resource, patient_id=patient_id,
                                 fhir_user=fhir_user if "fhirUser" in scope.split() else None,
                                 expires_at=connection_expiry())
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
