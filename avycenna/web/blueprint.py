"""The pages' Blueprint and what every page goes through: its own rate budget, the signed-in
session, the CSRF check and the security headers.

It lives apart from `avycenna.web` (which imports every page module to add its routes), so a
page module imports `bp` without importing the package that imports it.
"""
from flask import Blueprint, current_app, request, session
from flask_wtf.csrf import CSRFProtect

from avycenna.ratelimit import check_named_limits, ip_key, limiter
from avycenna.web import errors, sessions
from avycenna.web.security import add_security_headers

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")
csrf = CSRFProtect()
# Upload views check the CSRF token themselves: the multipart one after the file is streamed to
# disk (request.form would buffer it), the resumable (tus) ones from their X-CSRFToken header
# (the form check would read a piece's body, over MAX_CONTENT_LENGTH, as a form).
UPLOAD_ENDPOINTS = ("web.upload_import", "web.create_import_upload", "web.import_upload")


def page_limit():
    return current_app.config["RATELIMIT_WEB"]


def page_limit_key():
    """Pages are limited per signed-in account, else per client IP."""
    user_id = session.get("uid")
    return "web-user:" + user_id if user_id else "web-" + ip_key()


def check_csrf():
    if request.endpoint in UPLOAD_ENDPOINTS:
        return
    csrf.protect()


# Blueprint set-up happens once, at import; init_app may run for many apps (tests).
bp.before_request(check_named_limits)  # the pages' own budget (RATELIMIT_WEB) and sign-in budgets
bp.before_request(sessions.load_session_user)
bp.before_request(check_csrf)
bp.after_request(add_security_headers)
errors.register_page_handlers(bp)
limiter.limit(page_limit, key_func=page_limit_key)(bp)
