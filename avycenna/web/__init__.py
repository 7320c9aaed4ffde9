"""The HTML pages: sign-in, the account dashboard, the checkout and the clinician console.

Pages are a plain Flask blueprint rendering Jinja templates. They call the same service
functions as the JSON API, so every rule lives once. Browsers are signed in by Flask's
signed session cookie, which the JSON API never reads (`avycenna.actor`); every form
carries a CSRF token (Flask-WTF), checked here only. Every page is sent with a
Content-Security-Policy that allows the server's own assets and nothing inline.
"""
from avycenna.web import (account, account_security, admin, checkout, console, encounters_and_billing, filters,  # noqa: F401
                          grants_pages, imports, oauth_pages, patients, signin, words)  # (routes)
from avycenna.web import errors, sessions
from avycenna.web.blueprint import bp, csrf


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
