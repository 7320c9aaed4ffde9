"""The authorization server's rows: clients, the connections people approve, codes and tokens.

Secrets (client secrets, authorization codes, access and refresh tokens) are kept only as
SHA-256 digests: each is high-entropy and looked up by equality, as API keys are.
"""
import json

from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id


class OAuthClient(BaseModel):
    """A client: an assistant that registered itself (RFC 7591), or one an admin registered."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("cli"))  # the client_id
    name = CharField(max_length=200)
    client_uri = CharField(max_length=2048, null=True)
    redirect_uris = TextField(default="[]")  # JSON list, compared exactly
    grant_types = CharField(max_length=200, default="authorization_code refresh_token")
    scope = CharField(max_length=500, default="")
    token_endpoint_auth_method = CharField(max_length=32, default="none")
    secret_hash = CharField(max_length=64, null=True)  # confidential clients only
    registered_by = CharField(max_length=16, default="dynamic")  # dynamic | admin | document
    # A client that names itself by URL (a Client ID Metadata Document): the URL, its client_id
    # on the wire, and when the document was last fetched (it is fetched again when stale).
    document_url = CharField(max_length=2048, null=True)
    document_fetched_at = DateTimeField(null=True)
    # Backend services (client credentials): the account the client acts as, and its public keys.
    owner = ForeignKeyField(User, backref="oauth_clients", null=True, on_delete="CASCADE")
    jwks = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    first_connected_at = DateTimeField(null=True)  # a person first approved it (never: purged after a day)
    disabled_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_client"

    @property
    def redirect_uri_list(self):
        return json.loads(self.redirect_uris or "[]")


class OAuthConnection(BaseModel):
    """One approval on the consent page: this person let this client act for them, with these
    scopes, for this resource, until `expires_at`. Every code and token descends from one, and
    revoking it ends them all on their next use."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("oac"))
    user = ForeignKeyField(User, backref="oauth_connections", on_delete="CASCADE")
    client = ForeignKeyField(OAuthClient, backref="connections", on_delete="CASCADE")
    scope = CharField(max_length=500)
    resource = CharField(max_length=2048)
    # SMART standalone launch (`launch/patient`): the one patient the person chose; the token
    # reads that patient only.
    patient_id = CharField(max_length=36, null=True)
    # OpenID Connect (`openid fhirUser`): the FHIR resource that is the person, e.g.
    # "Patient/<id>" for their own record, named in the id_token; null when they have none.
    fhir_user = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    revoked_reason = CharField(max_length=32, null=True)  # user | client | code_reuse | refresh_reuse

    class Meta:
        table_name = "oauth_connection"


class OAuthCode(BaseModel):
    """An authorization code: single-use, short-lived, bound to its PKCE challenge and redirect."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("oax"))
    code_hash = CharField(max_length=64, unique=True)
    connection = ForeignKeyField(OAuthConnection, backref="codes", on_delete="CASCADE")
    redirect_uri = CharField(max_length=2048)
    code_challenge = CharField(max_length=128)
    # OpenID Connect: the request's `nonce`, echoed in the id_token, and when the person signed in.
    nonce = CharField(max_length=255, null=True)
    auth_time = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_code"


class OAuthToken(BaseModel):
    """An access token and its refresh token. Refreshing marks this row's refresh used (and ends
    its access token) and issues the next row of the same connection; presenting a used refresh
    token again revokes the whole connection."""
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("oat"))
    connection = ForeignKeyField(OAuthConnection, backref="tokens", on_delete="CASCADE")
    access_hash = CharField(max_length=64, unique=True)
    refresh_hash = CharField(max_length=64, unique=True, null=True)
    scope = CharField(max_length=500)
    issued_at = DateTimeField(default=utcnow)
    access_expires_at = DateTimeField()
    refresh_expires_at = DateTimeField(null=True)
    refresh_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_token"


class OAuthAssertion(BaseModel):
    """A backend client's signed assertion (private_key_jwt) already used: its `jti` may not come
    again while the assertion could still be valid (RFC 7523 §3, SMART Backend Services)."""
    id = CharField(primary_key=True, max_length=64)  # sha256 of client id and jti
    client = ForeignKeyField(OAuthClient, on_delete="CASCADE", index=False)
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "oauth_assertion"
