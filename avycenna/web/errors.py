"""HTML error pages for the pages; the JSON API keeps its JSON errors.

A page that fails shows a short page in plain words (never a traceback, never the API's
JSON). An unknown address is an HTML page only for a browser that asks for HTML and only
outside /api/; API clients always get `{"detail": "Not found."}`.
"""
import logging

from flask import make_response, render_template, request
from flask_wtf.csrf import CSRFError
from peewee import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from avycenna.errors import DEFAULT_DETAIL, ApiError, http_error_response

log = logging.getLogger("avycenna")

TITLES = {
    400: "Something in that request was not right",
    401: "Please sign in",
    403: "This page is not for your account",
    404: "Page not found",
    405: "That action is not available here",
    409: "That conflicts with something that already exists",
    413: "That upload is too large",
    429: "Too many requests — please wait a moment",
    500: "Something went wrong on our side",
    503: "The service is briefly unavailable",
}
EXPLANATIONS = {
    403: "You are signed in with an account that cannot open this page.",
    404: "The address may be mistyped, or the page no longer exists.",
    500: "The error has been logged. Please try again in a moment.",
    503: "Please try again in a few seconds.",
}
API_PREFIXES = ("/api/", "/fhir/", "/health", "/openapi.json", "/docs", "/redoc")


def error_page(status, message=None):
    title = TITLES.get(status, DEFAULT_DETAIL.get(status, "Error"))
    message = message or EXPLANATIONS.get(status, "")
    return render_template("web/error.html", status=status, title=title, message=message), status


def _http_error(error):
    if error.code is None:
        return error
    message = error.description if isinstance(error, ApiError) else None
    response = error_page(error.code, message)
    if error.code == 429 and error.get_headers():
        return response[0], error.code, [h for h in error.get_headers() if h[0] == "Retry-After"]
    return response


def _csrf_error(error):
    return error_page(400, "This form has expired or was not sent from this site. "
                           "Go back, reload the page and try again.")


def _integrity_error(error):
    log.info("integrity error on page %s %s", request.method, request.path)
    return error_page(409)


def _database_error(error):
    log.warning("database error on page %s %s: %s", request.method, request.path, type(error).__name__)
    return error_page(503)


def _unexpected_error(error):
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unhandled error on page %s %s", request.method, request.path)
    return error_page(500)


def register_page_handlers(bp):
    bp.register_error_handler(CSRFError, _csrf_error)
    bp.register_error_handler(IntegrityError, _integrity_error)
    bp.register_error_handler(OperationalError, _database_error)
    bp.register_error_handler(InterfaceError, _database_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected_error)


def wants_html():
    accept = request.accept_mimetypes
    return accept["text/html"] > accept["application/json"]


def _not_found(error):
    if request.path.startswith(API_PREFIXES) or not wants_html():
        return http_error_response(error)
    from avycenna.web.security import add_security_headers
    from avycenna.web.sessions import load_session_user

    load_session_user()
    body, status = error_page(404)
    return add_security_headers(make_response(body, status))


def register_browser_not_found(app):
    """An unknown address is a page for browsers, JSON for everyone else."""
    app.register_error_handler(404, _not_found)
