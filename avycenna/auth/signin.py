"""Sign-in rules: password login and the token response."""
from flask import current_app

from avycenna.audit.service import record
from avycenna.auth.passwords import verify_password
from avycenna.auth.tokens import issue_access_token
from avycenna.auth.users import find_user_by_email
from avycenna.errors import fail

BAD_CREDENTIALS = "Incorrect e-mail or password."


def token_response(user):
    return {"access_token": issue_access_token(user), "token_type": "bearer",
            "expires_in": int(current_app.config["ACCESS_TOKEN_TTL"])}


def password_login(email, password):
    """Tokens for a correct e-mail and password; the same 401 (and time) otherwise."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
        record("auth.login", outcome="failure", user_id=user.id if user else None)
        fail(401, BAD_CREDENTIALS)
    record("auth.login", user_id=user.id)
    return token_response(user)
