"""E-mail one-time codes: send, verify, and sign up on the first verify.

A code is 6 digits, stored as an HMAC with the secret key, valid `OTP_TTL`
seconds, used once, and only the latest code sent to an address counts. After
`OTP_MAX_ATTEMPTS` wrong tries it is burned. Sending answers the same way whether
or not the address has an account.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app

from avycenna.audit.service import record
from avycenna.auth.models import OtpCode
from avycenna.auth.users import create_user, find_user_by_email, normalize_email
from avycenna.clock import utcnow
from avycenna.db import locked, transaction, write_transaction
from avycenna.errors import fail
from avycenna.mail import MailError, send_mail

INVALID = "Invalid or expired code."
SUBJECT = "Your AVYCENNA sign-in code"


def hash_code(email, code):
    return hmac.new(current_app.secret_key.encode(), f"otp:{email}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def new_code():
    return f"{secrets.randbelow(10**6):06d}"


def may_sign_in(email):
    """An active account, or none yet and sign-up is open."""
    user = find_user_by_email(email)
    return user.is_active if user else bool(current_app.config["ALLOW_SIGNUP"])


def send_code(email):
    """Mail a fresh code to `email` (superseding earlier ones) when it may sign in."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    if not may_sign_in(email):
        record("auth.otp_send", outcome="denied", user_id=user.id if user else None)
        return
    code, now = new_code(), utcnow()
    ttl = int(current_app.config["OTP_TTL"])
    with write_transaction():
        OtpCode.update(consumed_at=now).where(
            (OtpCode.email == email) & OtpCode.consumed_at.is_null()).execute()
        OtpCode.create(email=email, code_hash=hash_code(email, code), created_at=now,
                       expires_at=now + timedelta(seconds=ttl))
    try:
        send_mail(email, SUBJECT, f"Your sign-in code is {code}\n\n"
                                  f"It is valid for {ttl // 60} minutes and can be used once.\n"
                                  "If you did not ask for it, ignore this mail.\n")
    except MailError:
        record("auth.otp_send", outcome="failure", user_id=user.id if user else None)
        fail(503, "The sign-in code could not be mailed; try again shortly.", {"Retry-After": "30"})
    record("auth.otp_send", user_id=user.id if user else None)


def verify_code(email, code):
    """The account for a correct, live code (created on first sign-in); 401 otherwise."""
    email = normalize_email(email)
    ok = _check(email, code)
    user = find_user_by_email(email)
    if not ok or not may_sign_in(email):
        record("auth.otp_verify", outcome="failure", user_id=user.id if user else None)
        fail(401, INVALID)
    if user is None:
        user = create_user(email, role="member")
        record("user.signup", user_id=user.id, target_type="user", target_id=user.id)
    record("auth.otp_verify", user_id=user.id)
    return user


@transaction
def _check(email, code):
    """Compare `code` with the live one, read under a row lock so that parallel guesses
    count one by one: at most OTP_MAX_ATTEMPTS wrong tries ever reach a code."""
    row = locked(OtpCode.select().where((OtpCode.email == email) & OtpCode.consumed_at.is_null())
                 .order_by(OtpCode.created_at.desc())).first()
    if row is None or row.expires_at <= utcnow():
        return False
    if hmac.compare_digest(row.code_hash, hash_code(email, code)):
        return _use(row)
    _wrong_try(row)
    return False


def _use(row):
    """Consume the code; False when a concurrent verify already did."""
    return OtpCode.update(consumed_at=utcnow()).where(
        (OtpCode.id == row.id) & OtpCode.consumed_at.is_null()).execute() == 1


def _wrong_try(row):
    """Count a wrong code; the last allowed wrong try burns it."""
    burned = row.attempts + 1 >= int(current_app.config["OTP_MAX_ATTEMPTS"])
    OtpCode.update(attempts=OtpCode.attempts + 1,
                   consumed_at=utcnow() if burned else None).where(
        (OtpCode.id == row.id) & OtpCode.consumed_at.is_null()).execute()


def purge_expired():
    """Delete codes past their expiry (they can never be used); returns how many."""
    return OtpCode.delete().where(OtpCode.expires_at < utcnow()).execute()
