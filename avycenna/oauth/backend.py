"""SMART Backend Services: an EHR connector an admin registered for a clinician gets tokens by
client credentials with a signed assertion (private_key_jwt, RS384/ES384), reading as that
clinician."""
import json
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError, UnauthorizedClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from peewee import IntegrityError

from avycenna.audit.service import record
from avycenna.clock import EPOCH, utcnow
from avycenna.db import database, write_transaction
from avycenna.errors import fail
from avycenna.http import public_url
from avycenna.oauth import documents
from avycenna.oauth.common import (
    ASSERTION_ALGORITHMS, BACKEND_SCOPES, MAX_ASSERTION_LIFETIME, MAX_JWKS_KEYS, MAX_NAME_LENGTH, canonical,
    connection_expiry, digest, fhir_resource
)
from avycenna.oauth.flows import requested_resource
from avycenna.oauth.models import OAuthAssertion, OAuthClient, OAuthConnection
from avycenna.oauth.rows import revoke_connection



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
    """Disable a client (by its id, or the URL of its metadata document) and end every connection
    it has (an admin's revoke); False if unknown."""
    if documents.is_document_url(client_id):
        client_id = documents.row_id(client_id)
    with write_transaction():
        ended = OAuthClient.update(disabled_at=utcnow()).where(
            (OAuthClient.id == client_id) & OAuthClient.disabled_at.is_null()).execute() == 1
        for connection in OAuthConnection.select(OAuthConnection.id).where(OAuthConnection.client == client_id):
            revoke_connection(connection.id, "client_disabled")
    if ended:
        record("oauth.client_disable", target_type="oauth_client", target_id=client_id)
    return ended
