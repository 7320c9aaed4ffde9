"""OpenID Connect for SMART apps: with `openid fhirUser` a standalone launch's token response
also carries an `id_token` (RS256, authlib's `OpenIDCode` extension) that says who signed in —
`sub` the account's id and `fhirUser` the FHIR resource that is the person — signed by the
server's key, whose public half is at `/.well-known/jwks.json`.

The key is a 2048-bit RSA key in `instance/oidc_signing_key.pem` (0600), made on first use, or
the PEM file `OIDC_SIGNING_KEY_FILE` names (several hosts share one: see the operations guide).
An id_token is only read by the app at sign-in, so a new key after a lost file costs nothing.
"""
import os

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode as AuthlibOpenIDCode
from flask import current_app, g
from joserfc.jwk import RSAKey

from avycenna.http import public_url
from avycenna.oauth.common import issuer
from avycenna.oauth.models import OAuthCode, OAuthConnection
from avycenna.private import FILE_MODE

ALGORITHM = "RS256"  # what OpenID Connect requires every provider to support
MAX_NONCE_LENGTH = 255


def _key_path(app):
    return app.config.get("OIDC_SIGNING_KEY_FILE") or os.path.join(app.instance_path, "oidc_signing_key.pem")


def _read_or_make(path):
    """The PEM at `path`; made (0600) if missing. Racing processes: one link wins, all read it."""
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.new"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(RSAKey.generate_key(2048, private=True).as_pem(private=True))
        try:
            os.link(temporary, path)  # atomic, and never over another process's key
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    with open(path, "rb") as fh:
        return RSAKey.import_key(fh.read(), {"use": "sig", "alg": ALGORITHM})


def signing_key():
    """The server's id_token key (loaded once per process), with its RFC 7638 thumbprint as `kid`."""
    key = current_app.extensions.get("avycenna.oidc_key")
    if key is None:
        key = _read_or_make(_key_path(current_app))
        key.ensure_kid()
        current_app.extensions["avycenna.oidc_key"] = key
    return key


def jwks():
    """The public JWK Set (RFC 7517) apps verify id_tokens with."""
    return {"keys": [signing_key().as_dict(private=False)]}


class OpenIDCode(AuthlibOpenIDCode):
    """authlib's OpenID Connect code flow, on our rows: the nonce and sign-in time are kept on
    the code, `fhirUser` on the connection the person approved."""

    def resolve_client_private_key(self, client):
        return signing_key()

    def get_client_algorithm(self, client):
        return ALGORITHM

    def get_encode_header(self, client):
        return {"alg": ALGORITHM, "kid": signing_key().kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def exists_nonce(self, nonce, request):
        """A nonce this client already used is a replay (OpenID Connect Core §3.1.2.1)."""
        return (OAuthCode.select().join(OAuthConnection)
                .where((OAuthCode.nonce == nonce) & (OAuthConnection.client == request.client.client_id)).exists())

    def validate_openid_authorization_request(self, grant, redirect_uri):
        nonce = grant.request.payload.data.get("nonce")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequestError(f"'nonce' is longer than {MAX_NONCE_LENGTH} characters.")
        super().validate_openid_authorization_request(grant, redirect_uri)

    def generate_user_info(self, user, scope):
        """`sub` the account; `fhirUser` (when granted) the record that is the person, if any."""
        info = UserInfo(sub=user.id)
        fhir_user = g.get("oauth_fhir_user")
        if fhir_user and "fhirUser" in scope.split():
            info["fhirUser"] = public_url("/fhir/R4/" + fhir_user)
        return info

    def process_token(self, grant, response):
        code = grant.request.authorization_code
        g.oauth_fhir_user = code.row.connection.fhir_user if code is not None else None
        return super().process_token(grant, response)
