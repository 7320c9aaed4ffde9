"""Sign-in budgets, each one budget for the JSON API and the sign-in page together.

- `signin_limit`: every sign-in request, per client IP (`RATELIMIT_AUTH`).
- `otp_send_limits`: e-mail codes sent, per address (`RATELIMIT_OTP_EMAIL`, counting only codes
  actually sent) and per client IP (`RATELIMIT_OTP_IP`).
- `password_account_limit`: failed password sign-ins per account (`RATELIMIT_LOGIN_ACCOUNT`);
  once used up, that account's password sign-in answers 429 with Retry-After, right password
  or not, until the window moves on — guessing from many addresses gains nothing.

Shared limits (a `scope`) count in one bucket whichever route they decorate; addresses are
hashed before they reach the limit storage. The address is read from the body the strict
reader parsed (`avycenna.jsonbody`); a body it refuses keys these budgets on the client's
address instead, and the view answers the refusal.
"""
import hashlib

from flask import request

from avycenna.auth.users import normalize_email
from avycenna.jsonbody import request_body_or_none
from avycenna.ratelimit import config_limit, ip_key, limiter, never_raises

SENT = (202, 302)  # the API's "code sent", the page's redirect to the code form
FAILED_SIGNIN = (401,)


def _posted_email():
    """The address a sign-in names ("" when none), or None when its JSON body was refused."""
    if request.is_json:
        body = request_body_or_none()
        if body is None:
            return None
    else:
        body = request.form  # the pages post forms
    email = body.get("email") if hasattr(body, "get") else None
    return normalize_email(email) if isinstance(email, str) else ""


def _hashed(prefix):
    email = _posted_email()
    if email is None:  # a refused body names no address: its sender's address spends instead
        return prefix + ip_key()
    return prefix + hashlib.sha256(email.encode()).hexdigest()[:32]


def otp_email_key():
    """The address an OTP is requested for, hashed (no addresses in the limit storage)."""
    return _hashed("otp-email:")


def login_account_key():
    return _hashed("login-account:")


signin_limit = limiter.shared_limit(config_limit("RATELIMIT_AUTH"), scope="auth", key_func=ip_key,
                                    override_defaults=False)


def otp_send_limits(view):
    view = limiter.shared_limit(config_limit("RATELIMIT_OTP_IP"), scope="otp-ip", key_func=ip_key,
                                override_defaults=False)(view)
    return limiter.shared_limit(config_limit("RATELIMIT_OTP_EMAIL"), scope="otp-email", key_func=never_raises(otp_email_key),
                                override_defaults=False,
                                deduct_when=lambda response: response.status_code in SENT)(view)


password_account_limit = limiter.shared_limit(
    config_limit("RATELIMIT_LOGIN_ACCOUNT"), scope="login-account", key_func=never_raises(login_account_key),
    override_defaults=False, deduct_when=lambda response: response.status_code in FAILED_SIGNIN,
    error_message="too many failed password sign-ins for this account; wait, or sign in by e-mail code")
