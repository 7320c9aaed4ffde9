"""Browser sign-in: Flask's signed session cookie holds the account id.

The cookie is read only by the pages; the JSON API ignores it. On every page request the
account is loaded again, so a disabled account is signed out at once.
"""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from avycenna.auth.actor import Actor
from avycenna.auth.models import User
from avycenna.clock import isoformat, utcnow


def load_session_user():
    """Before every page: `g.actor` is the signed-in account (kind "session") or anonymous."""
    user_id = session.get("uid")
    user = User.get_or_none(User.id == user_id) if user_id else None
    if user_id and (user is None or not user.is_active):
        session.clear()
        user = None
    if user is not None:
        g.actor = Actor("session", user=user)


def page_user():
    """The signed-in account, or None."""
    actor = g.get("actor")
    return actor.user if actor is not None and actor.kind == "session" else None


def sign_in(user):
    """Start a fresh browser session for `user` (a new session, never the old one reused)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["since"] = isoformat(utcnow())
    g.actor = Actor("session", user=user)


def sign_out():
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
