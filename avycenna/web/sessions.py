"""Browser sign-in: Flask's signed session cookie names a server-side session row.

The cookie is read only by the pages; the JSON API ignores it. On every page request the
session row and its account are loaded again, so signing out, "sign out everywhere", a
password change and a disabled account end a browser's session on its next request — even
one holding a copy of the cookie.
"""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from avycenna.actor import Actor
from avycenna.auth.sessions import end_browser_session, live_browser_session, start_browser_session


def load_session_user():
    """Before every page: `g.actor` is the signed-in account (kind "session") or anonymous."""
    if "uid" not in session:
        return
    row = live_browser_session(session.get("sid"))
    if row is None or row.user_id != session["uid"]:
        session.clear()
        return
    g.browser_session = row
    g.actor = Actor("session", user=row.user)


def page_user():
    """The signed-in account, or None."""
    actor = g.get("actor")
    return actor.user if actor is not None and actor.kind == "session" else None


def sign_in(user):
    """Start a fresh browser session for `user` (a new session, never the old one reused)."""
    old = g.pop("browser_session", None)
    if old is not None:
        end_browser_session(old)
    row, token = start_browser_session(user)
    session.clear()
    session.permanent = True
    session["uid"], session["sid"] = user.id, token
    g.browser_session = row
    g.actor = Actor("session", user=user)


def current_browser_session():
    """This browser's session row (signed in), or None."""
    return g.get("browser_session")


def sign_out():
    """End this browser's session: the cookie, and the row (so a copy of the cookie dies too)."""
    row = g.pop("browser_session", None)
    if row is not None:
        end_browser_session(row)
    session.clear()
    g.actor = Actor("anonymous")


def safe_next(target, default=None):
    """A local path to continue to (after sign-in, after a form); else `default` or the home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return default or url_for("web.home")


def signin_required(*roles):
    """Page decorator: sign in first (then come back here); the wrong role is a 403 page."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = page_user()
            if user is None:
                return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


# Paths whose requests never have a browser session: the JSON API, FHIR and the health check.
SESSIONLESS_PATHS = ("/api/", "/fhir/", "/health")


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, read only where pages are: under the API's paths the
    cookie is not even parsed (Flask's null session stands in), and the signing serializer
    is built once per secret key instead of on every request."""

    def open_session(self, app, request):
        if request.path.startswith(SESSIONLESS_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("avycenna_session_serializer")
        if cached is None or cached[0] != key:
            cached = app.extensions["avycenna_session_serializer"] = (key, super().get_signing_serializer(app))
        return cached[1]
