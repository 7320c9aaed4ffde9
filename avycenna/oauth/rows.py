"""authlib's views of our rows: clients, codes and tokens (stored as digests), and connections,
the approvals every code and token hangs off (revoking one ends them all)."""
import hmac

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oidc.core import AuthorizationCodeMixin

from avycenna.clock import iso_to_ms, utcnow
from avycenna.oauth import documents
from avycenna.oauth.common import SCOPES, digest
from avycenna.oauth.models import OAuthClient, OAuthConnection, OAuthToken


# authlib's views of the rows ------------------------------------------------------------

class Client(ClientMixin):
    def __init__(self, row):
        self.row = row
        self.client_id = row.id

    def get_client_id(self):
        """On the wire: the id we gave it, or the URL of its metadata document."""
        return self.row.document_url or self.row.id

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

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return iso_to_ms(self.row.auth_time) // 1000 if self.row.auth_time else None


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
    """The enabled client `client_id` names: a registered one, or one that names itself by the
    URL of its metadata document (`invalid_client` saying why when that document is refused)."""
    if documents.is_document_url(client_id):
        try:
            row = documents.client_row(client_id)
        except documents.DocumentRefused as exc:
            raise InvalidClientError(description=str(exc))
        return Client(row) if row is not None else None
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
