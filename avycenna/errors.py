"""The one place errors become JSON.

Validation errors (422) carry a list: `{"detail": [{"loc", "msg", "type"}]}`;
every other error is `{"detail": "message"}` with its status. No HTML error page
and no traceback ever reaches an API client.
"""
import logging

from flask import jsonify, request
from peewee import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("avycenna")

# Short messages for werkzeug's long default descriptions.
# The one answer for a patient, or a grant, the caller may not see: it reveals nothing.
DENIED = "Grant not found or access denied."

DEFAULT_DETAIL = {
    400: "Bad request.",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request body too large.",
    415: "Request body must be JSON (Content-Type: application/json).",
    422: "Unprocessable content.",
    429: "Too many requests.",
    500: "Internal server error.",
    503: "Service unavailable.",
}

LOCATIONS = {"json": "body", "form": "body", "files": "body", "querystring": "query",
             "query": "query", "view_args": "path", "path": "path", "headers": "header",
             "cookies": "cookie"}

MESSAGE_TYPES = {
    "Missing data for required field.": "missing",
    "Not a valid email address.": "value_error.email",
    "Unknown field.": "extra_forbidden",
    "Field may not be null.": "none_forbidden",
    "Not a valid string.": "type_error.str",
    "Not a valid integer.": "type_error.integer",
    "Not a valid number.": "type_error.number",
    "Not a valid boolean.": "type_error.bool",
    "Not a valid datetime.": "value_error.datetime",
    "Not a valid date.": "value_error.date",
    "Not a valid UUID.": "value_error.uuid",
    "Invalid input type.": "type_error",
    "Not a valid list.": "type_error.list",
    "Not a valid mapping type.": "type_error.dict",
}


class ApiError(HTTPException):
    """An error with a status and a message for the client: `raise ApiError(404, "…")`."""

    def __init__(self, code, detail, headers=None):
        super().__init__(description=detail)
        self.code = code
        self.extra_headers = headers or {}


def fail(code, detail, headers=None):
    raise ApiError(code, detail, headers)


def not_found(detail="Not found."):
    raise ApiError(404, detail)


def validation_error(loc, msg, type_="value_error"):
    """A 422 for a rule a schema cannot express (`loc` like ["body", "patient_id"])."""
    error = ApiError(422, msg)
    error.data = {"detail": [{"loc": list(loc), "msg": msg, "type": type_}]}
    raise error


def flatten_messages(messages, loc=()):
    """webargs/marshmallow messages → the seed's `detail` list."""
    items = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                items.extend(flatten_messages(value, loc))
            else:
                part = LOCATIONS.get(key, key) if not loc else key
                items.extend(flatten_messages(value, loc + (part,)))
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            items.extend(flatten_messages(value, loc))
    else:
        text = str(messages)
        items.append({"loc": list(loc), "msg": text,
                      "type": MESSAGE_TYPES.get(text, "value_error")})
    return items


def _detail(error):
    data = getattr(error, "data", None) or {}
    if "detail" in data:
        return data["detail"]
    messages = data.get("messages")
    if error.code == 422 and messages:
        return flatten_messages(messages)
    if error.code == 400 and messages:
        return "Malformed JSON body." if "json" in messages else "Bad request."
    if error.code == 429 and not isinstance(error, ApiError):
        return f"Rate limit exceeded: {error.description}."
    if isinstance(error, ApiError) or (
            error.description and error.description != type(error).description):
        return error.description
    return DEFAULT_DETAIL.get(error.code, error.name)


# Paths whose errors take another shape: (prefix, render(status, detail) → Response). FHIR's
# OperationOutcome registers itself here; everything else gets `{"detail": …}`.
ERROR_FORMATS = []


def register_error_format(prefix, render):
    if (prefix, render) not in ERROR_FORMATS:
        ERROR_FORMATS.append((prefix, render))


def _render(status, detail):
    for prefix, render in ERROR_FORMATS:
        if request.path.startswith(prefix):
            return render(status, detail)
    response = jsonify(detail=detail)
    response.status_code = status
    return response


def http_error_response(error):
    """Any HTTPException as the JSON error shape, keeping its useful headers."""
    if error.code is None:  # a RequestRedirect or similar: let Flask answer it
        return error
    if error.code >= 500:
        log.error("HTTP %s on %s %s", error.code, request.method, request.path)
    response = _render(error.code, _detail(error))
    for name, value in (error.get_headers() or []):
        if name.lower() in ("allow", "www-authenticate", "retry-after"):
            response.headers[name] = value
    for name, value in getattr(error, "extra_headers", {}).items():
        response.headers[name] = value
    data = getattr(error, "data", None) or {}
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _integrity_error(error):
    log.info("integrity error on %s %s: %s", request.method, request.path, type(error).__name__)
    return http_error_response(ApiError(409, "Conflicts with an existing record."))


def _database_error(error):
    log.warning("database error on %s %s: %s", request.method, request.path, type(error).__name__)
    return http_error_response(ApiError(503, "Database unavailable; try again shortly.",
                                        {"Retry-After": "5"}))


def _unexpected_error(error):
    if isinstance(error, HTTPException):
        return http_error_response(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return http_error_response(InternalServerError())


def register(app):
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(InterfaceError, _database_error)
    app.register_error_handler(Exception, _unexpected_error)
