"""Request hooks shared by every endpoint: request ids, the client's address and the JSON-only body rule."""
import hashlib
import hmac
import itertools
import json
import re
import uuid

from flask import current_app, request

from avycenna.errors import fail
from avycenna.jsonbody import UnstorableText, check_text

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Paths whose bodies are JSON: the API's, and the MCP endpoint's JSON-RPC messages.
JSON_BODY_PREFIXES = ("/api/", "/mcp")
# Uploads: the one kind of API body that is a file, not JSON: multipart, or a resumable
# upload's pieces (tus PATCH).
MULTIPART_PATHS = re.compile(r"^/api/v1/patients/[^/]+/imports$")
UPLOAD_PIECE_PATHS = re.compile(r"^/api/v1/patients/[^/]+/imports/uploads/[^/]+$")
UPLOAD_PIECE_TYPE = "application/offset+octet-stream"


# Made request ids: this process's random 64 bits, then a counter — unique across processes
# and restarts like a uuid4, without a random-number system call on every request.
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count(1)


def client_ip():
    return request.remote_addr or "unknown"


def ip_hash(ip=None):
    """Salted hash of the client IP: the raw address is never stored."""
    secret = current_app.secret_key.encode()
    return hmac.new(secret, b"ip:" + (ip or client_ip()).encode(), hashlib.sha256).hexdigest()[:32]


def new_request_id():
    """A fresh 32-hex-character request id."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"


def assign_request_id(request, g):
    """Echo a sane client `X-Request-ID`, otherwise make one."""
    sent = request.environ.get("HTTP_X_REQUEST_ID", "")  # the WSGI key `request.headers` reads; no raise when absent
    g.request_id = sent if REQUEST_ID.match(sent) else new_request_id()


def require_json_body(request, g):
    """An API (or MCP) request with a body must send JSON: anything else is a 415."""
    if request.method not in BODY_METHODS or not request.path.startswith(JSON_BODY_PREFIXES):
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if request.mimetype == "multipart/form-data" and MULTIPART_PATHS.match(request.path):
        return
    if request.mimetype == UPLOAD_PIECE_TYPE and UPLOAD_PIECE_PATHS.match(request.path):
        return
    if has_body and not request.is_json:
        fail(415, "Request body must be JSON (Content-Type: application/json).")


def reject_unstorable_text(request, g):
    """A NUL character (or unpaired surrogate) in the path, the query or a form is a 422.

    JSON bodies get the same rule from `avycenna.jsonbody`; nothing of the kind can be
    stored in PostgreSQL or sent in a mail, so it never reaches a view.
    """
    if not check_text(request.path):
        UnstorableText([]).refuse("path")
    sources = [("query", request.args)] if request.query_string else []
    if request.method in BODY_METHODS and request.mimetype == "application/x-www-form-urlencoded":
        sources.append(("body", request.form))
    for where, values in sources:
        for name, value in values.items(multi=True):
            if not (check_text(name) and check_text(value)):
                UnstorableText([name]).refuse(where)


def public_url(path):
    """An absolute link for people: `PUBLIC_BASE_URL` (or this request's host) + `path`."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    return base.rstrip("/") + path


def add_request_id(response, request, g):
    response.headers["X-Request-ID"] = g.get("request_id") or new_request_id()
    return response


def honest_empty_responses(response, request, g):
    """A 204 has no content, so no content type; OPTIONS answers JSON, not an empty HTML page."""
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    elif request.method == "OPTIONS" and response.status_code == 200 and not response.get_data():
        allow = sorted(filter(None, (m.strip() for m in response.headers.get("Allow", "").split(","))))
        response.set_data(json.dumps({"allow": allow}))
        response.mimetype = "application/json"
    return response

