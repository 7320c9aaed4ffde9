"""The tus 1.0 resumable-upload protocol (https://tus.io/protocols/resumable-upload): core,
creation, termination and expiration, as headers in and out; the rules are
`avycenna.imports.resumable`. Both surfaces use it: the API (bearer token or API key) and the
dashboard page (session cookie and CSRF header), so the real clients, `tuspy` and
`tus-js-client`, work unchanged with either.

No maintained Python tus server fits a Flask app (flask-tus and tusfilter were last released in
2015-2016, the maintained ones are for other frameworks), so the few headers are read here.

- `OPTIONS` → 204 with Tus-Version, Tus-Extension, Tus-Max-Size (no Tus-Resumable needed).
- `POST` (creation) with Upload-Length and Upload-Metadata (`filename` base64) → 201, Location.
- `HEAD` → Upload-Offset, Upload-Length, Upload-Expires, Cache-Control: no-store.
- `PATCH` with `Content-Type: application/offset+octet-stream` and Upload-Offset → 204 and the
  new Upload-Offset; an offset other than the server's → 409. The last piece answers with
  `Import-Location`, the import the file became.
- `DELETE` (termination) → 204, the bytes deleted.

Every other request must send `Tus-Resumable: 1.0.0` (412 otherwise) and every answer carries
it. Errors keep the surface's own shape (the API's JSON `{"detail": …}`).
"""
import base64
import binascii
import re

from flask import Response, request
from werkzeug.http import http_date

from avycenna.errors import fail
from avycenna.imports import resumable

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
OFFSET_TYPE = "application/offset+octet-stream"
DIGITS = re.compile(r"^[0-9]{1,19}$")
METADATA_KEY = re.compile(r"^[^\s,]+$")
MAX_METADATA = 4096  # characters of Upload-Metadata read


def add_headers(response):
    """Every answer of a tus endpoint names the protocol version (errors too)."""
    response.headers["Tus-Resumable"] = VERSION
    return response


def require_version():
    """A tus request (all but OPTIONS) names the version this server speaks; 412 otherwise."""
    if request.headers.get("Tus-Resumable") != VERSION:
        fail(412, f"Send Tus-Resumable: {VERSION}, the tus version this server speaks.", {"Tus-Version": VERSION})


def _number(name, required=True):
    value = request.headers.get(name)
    if value is None and not required:
        return None
    if value is None or not DIGITS.match(value.strip()):
        fail(400, f"{name} must be a whole number of bytes.")
    return int(value)


def _filename():
    """The `filename` of Upload-Metadata (`key base64,key base64`), or None."""
    raw = request.headers.get("Upload-Metadata", "")
    if len(raw) > MAX_METADATA:
        fail(400, f"Upload-Metadata may be at most {MAX_METADATA} characters.")
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        if not METADATA_KEY.match(key):
            fail(400, "Upload-Metadata must be comma-separated `key base64-value` pairs.")
        if key != "filename":
            continue
        try:
            name = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            fail(400, "Upload-Metadata's filename must be UTF-8 text in base64.")
        return "".join(c for c in name if c.isprintable()).strip() or None
    return None


def _state(upload, response):
    response.headers["Upload-Offset"] = str(upload.offset)
    response.headers["Upload-Expires"] = http_date(upload.expires_at)
    response.headers["Cache-Control"] = "no-store"
    return response


def options():
    """204: what this server speaks, and the largest upload."""
    response = Response(status=204)
    response.headers["Tus-Version"] = VERSION
    response.headers["Tus-Extension"] = EXTENSIONS
    response.headers["Tus-Max-Size"] = str(resumable.max_length())
    return response


def create(patient, user, location):
    """201 and the new upload's `location(upload)`."""
    require_version()
    if request.headers.get("Upload-Defer-Length") is not None:
        fail(400, "Upload-Defer-Length is not supported: send Upload-Length.")
    if (request.content_length or 0) > 0:
        fail(400, "Send the bytes with PATCH (creation-with-upload is not supported).")
    upload = resumable.start(patient, user, _number("Upload-Length"), _filename())
    response = _state(upload, Response(status=201))
    response.headers["Location"] = location(upload)
    return response


def head(patient, upload_id):
    """200 with the upload's offset and length (no body)."""
    require_version()
    upload = resumable.get(patient, upload_id)
    response = _state(upload, Response(status=200))
    response.headers["Upload-Length"] = str(upload.length)
    return response


def patch(patient, upload_id, import_location):
    """Append the body at Upload-Offset: 204 and the new offset; `import_location(item)` is
    sent as Import-Location with the piece that completes the upload."""
    require_version()
    if request.mimetype != OFFSET_TYPE:
        fail(415, f"Send the bytes as Content-Type: {OFFSET_TYPE}.")
    upload = resumable.get(patient, upload_id)
    offset = _number("Upload-Offset")
    size = request.content_length
    if size is None:
        fail(400, "Send Content-Length with the piece.")
    if size > resumable.max_piece():  # before the body is touched
        fail(413, f"A piece may be at most {resumable.max_piece()} bytes.")
    request.max_content_length = resumable.max_piece()
    upload, item = resumable.append(upload, offset, request.stream, size)
    response = _state(upload, Response(status=204))
    if item is not None:
        response.headers["Import-Location"] = import_location(item)
    return response


def delete(patient, upload_id):
    """204: the upload and its bytes are gone."""
    require_version()
    resumable.terminate(resumable.get(patient, upload_id))
    return Response(status=204)
