"""Sign-in rules: password login, OTP verify, refresh, and the token response."""
from flask import current_app

from avycenna.audit.service import record
from avycenna.auth import otp, refresh
from avycenna.auth.passwords import verify_password
from avycenna.auth.tokens import issue_access_token
from avycenna.auth.users import find_user_by_email
from avycenna.db import write_transaction
from avycenna.errors import fail

BAD_CREDENTIALS = "Incorrect e-mail or password."


def token_response(user, refresh_token=None):
    """Access token plus refresh token (a new family unless a rotated token is given)."""
    if refresh_token is None:
        with write_transaction():
            refresh_token = refresh.issue_refresh_token(user)
    family, signed_in_at = refresh.family_of(refresh_token)
    return {"access_token": issue_access_token(user, signed_in_at, family), "refresh_token": refresh_token,
            "token_type": "bearer", "expires_in": int(current_app.config["ACCESS_TOKEN_TTL"])}


def password_login(email, password):
    """Tokens for a correct e-mail and password; the same 401 (and time) otherwise."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
        record("auth.login", outcome="failure", user_id=user.id if user else None)
        fail(401, BAD_CREDENTIALS)
    record("auth.login", user_id=user.id)
    return token_response(user)


def otp_login(email, code):
    """Tokens for a correct e-mail code (signing the address up on first use)."""
    return token_response(otp.verify_code(email, code))


def refresh_login(token):
    """Tokens for a live refresh token, which is used up in exchange."""
    user, successor = refresh.rotate(token)
    record("auth.refresh", user_id=user.id)
    return token_response(user, successor)
