"""What a client may say about itself (RFC 7591 client metadata, however it arrives: a
registration or a metadata document), bounded: a few redirect URIs (https, or loopback http for
native apps), short texts, the authorization code and refresh grants."""
import json
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error

from avycenna import jsonbody
from avycenna.oauth.common import LOOPBACK_HOSTS, MAX_NAME_LENGTH, MAX_REDIRECT_URIS, MAX_URI_LENGTH, SCOPES


def check_client_metadata(data, auth_methods):
    """RegistrationError unless `data` (RFC 7591 client metadata) is within our bounds: 1 to 5
    redirect URIs (https, or loopback http), short texts, one of `auth_methods`, code and refresh."""
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
    if data.get("token_endpoint_auth_method", "client_secret_basic") not in auth_methods:
        raise RegistrationError("token_endpoint_auth_method: one of " + ", ".join(auth_methods) + ".")
    grant_types = data.get("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list) or not set(grant_types) <= {"authorization_code", "refresh_token"}:
        raise RegistrationError("grant_types: authorization_code and refresh_token only (backend clients are "
                                "registered by an admin).")
    if not jsonbody.check_text(json.dumps(data)):
        raise RegistrationError("Text that cannot be stored.")


def stored_scope(metadata):
    """The scopes a client may ask for, from its metadata's `scope` (only ours kept)."""
    return " ".join(s for s in (metadata.get("scope") or "").split() if s in SCOPES)


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
