"""Client ID Metadata Documents (the MCP authorization spec's way for an assistant to name itself
without registering, draft-ietf-oauth-client-id-metadata-document): a `client_id` that is an
https URL with a path is the address of the client's metadata, which this server fetches, checks
and keeps.

The fetch goes through the same guard as webhooks (public addresses only, unless the host is in
`OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS`; the checked address is the one connected to; no
redirects), with a 5-second limit and at most 5 KB read. The document must name the URL as its
`client_id`, be a public client (`token_endpoint_auth_method` "none", no secret), and keep to the
bounds a registration keeps to. It is kept as a client row (id `cim_…`, `document_url` the URL)
and fetched again when older than `OAUTH_CLIENT_DOCUMENT_TTL`; when the site cannot be reached,
the kept copy serves for up to a day more, so a short outage does not disconnect anyone.
"""
import json
from datetime import timedelta
from urllib.parse import urlsplit

import urllib3
from flask import current_app
from peewee import IntegrityError

from avycenna import outbound
from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.db import write_transaction
from avycenna.oauth.client_metadata import RegistrationError, check_client_metadata, stored_scope
from avycenna.oauth.common import MAX_NAME_LENGTH, MAX_URI_LENGTH, digest
from avycenna.oauth.models import OAuthClient

MAX_DOCUMENT_BYTES = 5 * 1024  # the draft's suggested limit
TIMEOUT_SECONDS = 5
GRACE = timedelta(days=1)  # how long past its TTL a kept document serves while its site is down


class DocumentRefused(ValueError):
    """The document cannot be used; the message says why."""


class Unreachable(DocumentRefused):
    """The document's site did not answer (a kept copy may still serve)."""


def is_document_url(client_id):
    """True when `client_id` names a metadata document: https, a path, no fragment or user info."""
    if not isinstance(client_id, str) or len(client_id) > MAX_URI_LENGTH or not client_id.startswith("https://"):
        return False
    try:
        parts = urlsplit(client_id)
    except ValueError:
        return False
    return bool(parts.hostname) and parts.path not in ("", "/") and not parts.fragment \
        and parts.username is None and parts.password is None


def row_id(url):
    return "cim_" + digest(url)[:28]


def fetch(url):
    """The document at `url` as a dict; DocumentRefused (or Unreachable) says why not."""
    config = current_app.config
    try:
        address = outbound.resolve(url, allowed="OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS")[0]
    except outbound.RefusedUrl as exc:
        raise DocumentRefused(str(exc))
    try:
        status, headers, body, complete = outbound.send(
            "GET", url, address, {"accept": "application/json", "user-agent": "AVYCENNA-OAuth/1"},
            timeout=TIMEOUT_SECONDS, ca_certs=config["OAUTH_CLIENT_DOCUMENT_CA_BUNDLE"],
            max_bytes=MAX_DOCUMENT_BYTES)
    except urllib3.exceptions.HTTPError as exc:
        raise Unreachable(f"The client's metadata document could not be fetched ({type(exc).__name__}).")
    if status >= 500:
        raise Unreachable(f"The client's metadata document's site answered {status}.")
    if status != 200:
        raise DocumentRefused(f"The client's metadata document answered {status}, not 200.")
    if not complete:
        raise DocumentRefused(f"The client's metadata document is over {MAX_DOCUMENT_BYTES} bytes.")
    try:
        document = json.loads(body)
    except ValueError:
        raise DocumentRefused("The client's metadata document is not JSON.")
    if not isinstance(document, dict):
        raise DocumentRefused("The client's metadata document is not a JSON object.")
    return document


def check(document, url):
    """The document's client metadata, checked against `url` and our bounds; DocumentRefused."""
    if document.get("client_id") != url:
        raise DocumentRefused("The metadata document's client_id is not its own URL.")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise DocumentRefused("A metadata document must not hold a client secret.")
    try:
        check_client_metadata(document, ["none"])
    except RegistrationError as exc:
        raise DocumentRefused(exc.description)
    if document.get("token_endpoint_auth_method", "none") != "none":
        raise DocumentRefused("token_endpoint_auth_method: none (a metadata document's client is public).")
    return document


def _store(url, document, existing):
    values = {"name": (document.get("client_name") or urlsplit(url).hostname)[:MAX_NAME_LENGTH],
              "client_uri": document.get("client_uri"), "redirect_uris": json.dumps(document["redirect_uris"]),
              "grant_types": " ".join(document.get("grant_types") or ["authorization_code"]),
              "scope": stored_scope(document), "token_endpoint_auth_method": "none",
              "document_fetched_at": utcnow()}
    if existing is None:
        try:
            with write_transaction():
                row = OAuthClient.create(id=row_id(url), registered_by="document", document_url=url, **values)
            record("oauth.client_document", target_type="oauth_client", target_id=row.id)
            return row
        except IntegrityError:
            pass  # another request stored it first: refresh that one
    (OAuthClient.update(**values)
     .where((OAuthClient.id == row_id(url)) & OAuthClient.disabled_at.is_null()).execute())
    return OAuthClient.get_or_none((OAuthClient.id == row_id(url)) & OAuthClient.disabled_at.is_null())


def client_row(url):
    """The enabled client row for the document at `url`, fetched when missing or stale (None:
    an admin disabled it); DocumentRefused says why the document cannot be used."""
    row = OAuthClient.get_or_none(OAuthClient.id == row_id(url))
    if row is not None and row.disabled_at is not None:
        return None
    ttl = timedelta(seconds=int(current_app.config["OAUTH_CLIENT_DOCUMENT_TTL"]))
    fetched = row.document_fetched_at if row is not None else None
    if fetched is not None and fetched + ttl > utcnow():
        return row
    try:
        return _store(url, check(fetch(url), url), row)
    except Unreachable:
        if fetched is not None and fetched + ttl + GRACE > utcnow():
            return row
        raise
