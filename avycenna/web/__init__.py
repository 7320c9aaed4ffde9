"""The HTML pages: sign-in, the account dashboard, the checkout and the clinician console.

Pages are a plain Flask blueprint rendering Jinja templates. They call the same service
functions as the JSON API, so every rule lives once. Browsers are signed in by Flask's
signed session cookie, which the JSON API never reads (`avycenna.auth.actor`); every form
carries a CSRF token (Flask-WTF), checked here only. Every page is sent with a
Content-Security-Policy that allows the server's own assets and nothing inline.
"""
from flask import Blueprint, current_app, session
from flask_wtf.csrf import CSRFProtect

from avycenna.ratelimit import check_named_limits, ip_key, limiter

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")
csrf = CSRFProtect()


def page_limit():
    return current_app.config["RATELIMIT_WEB"]


def page_limit_key():
    """Pages are limited per signed-in account, else per client IP."""
    user_id = session.get("uid")
    return "web-user:" + user_id if user_id else "web-" + ip_key()


def check_csrf():
    from flask import request

    from avycenna.web.imports import UPLOAD_ENDPOINTS

    if request.endpoint in UPLOAD_ENDPOINTS:
        return  # checked by the view after the file is streamed to disk (request.form would buffer it)
    csrf.protect()


# Blueprint set-up happens once, at import; init_app may run for many apps (tests).
from avycenna.web import errors, sessions  # noqa: E402
from avycenna.web.security import add_security_headers  # noqa: E402

bp.before_request(check_named_limits)  # the pages' own budget (RATELIMIT_WEB) and sign-in budgets
bp.before_request(sessions.load_session_user)
bp.before_request(check_csrf)
bp.after_request(add_security_headers)
errors.register_page_handlers(bp)
limiter.limit(page_limit, key_func=page_limit_key)(bp)

from avycenna.web import (account, account_security, admin, checkout, console, encounters_and_billing, filters,  # noqa: E402,F401
                          grants_pages, imports, patients, signin, words)  # (routes)


# Not settings: the cookie is never readable by script nor sent cross-site on POSTs; the
# CSRF token is checked by the pages only (the JSON API never reads cookies) and lives as
# long as the session; Flask-WTF's Referer check is off because pages send no Referer
# (Referrer-Policy: no-referrer keeps checkout tokens private).
FIXED_CONFIG = {
    "SESSION_COOKIE_NAME": "avycenna_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
}


def init_app(app):
    """Register the pages, their CSRF check and the HTML 404 for browsers."""
    app.config.update(FIXED_CONFIG)
    app.session_interface = sessions.SessionCookies()
    csrf.init_app(app)
    errors.register_browser_not_found(app)
    app.register_blueprint(bp)
