"""Sign-ins that can be ended: browser sessions (server-side rows) and refresh-token families.

`end_sign_ins` is the one way to end an account's other sign-ins: "sign out everywhere",
a password change and disabling the account all go through it.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from avycenna.auth.models import BrowserSession, RefreshToken, User
from avycenna.clock import utcnow


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start_browser_session(user):
    """A new browser session for `user`; returns (row, token for the cookie)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = timedelta(seconds=int(current_app.config["PERMANENT_SESSION_LIFETIME"]))
    row = BrowserSession.create(user=user, token_hash=_digest(token), created_at=now, expires_at=now + lifetime)
    return row, token


def live_browser_session(token):
    """The live session (with its active account) the cookie's token names, or None."""
    if not isinstance(token, str) or not token:
        return None
    row = (BrowserSession.select(BrowserSession, User).join(User)
           .where((BrowserSession.token_hash == _digest(token)) & BrowserSession.revoked_at.is_null()
                  & (BrowserSession.expires_at > utcnow()) & User.is_active).first())
    return row


def end_browser_session(row):
    BrowserSession.update(revoked_at=utcnow()).where(
        (BrowserSession.id == row.id) & BrowserSession.revoked_at.is_null()).execute()


def end_sign_ins(user, keep_session=None, keep_family=None):
    """End every browser session and refresh family of `user` but the ones named to keep."""
    now = utcnow()
    sessions = BrowserSession.update(revoked_at=now).where(
        (BrowserSession.user == user.id) & BrowserSession.revoked_at.is_null())
    if keep_session is not None:
        sessions = sessions.where(BrowserSession.id != keep_session)
    families = RefreshToken.update(revoked_at=now).where(
        (RefreshToken.user == user.id) & RefreshToken.revoked_at.is_null())
    if keep_family is not None:
        families = families.where(RefreshToken.family != keep_family)
    sessions.execute()
    families.execute()


def purge_expired():
    """Delete sessions that expired or were ended (refused anyway); returns how many."""
    return BrowserSession.delete().where((BrowserSession.expires_at < utcnow())
                                         | BrowserSession.revoked_at.is_null(False)).execute()
