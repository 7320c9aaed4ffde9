"""Rules about accounts, callable without HTTP."""
from avycenna.auth.models import ROLES, User
from avycenna.auth.passwords import hash_password
from avycenna.db import Prepared, write_transaction
from avycenna.errors import fail


def normalize_email(email):
    return email.strip().lower()


# Every JWT request reads its account (active? which role?) with this, compiled once.
USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id))


def user_by_id(user_id):
    """The account with this id, read now, or None."""
    return USER_BY_ID.first(user_id)


def find_user_by_email(email):
    return User.get_or_none(User.email == normalize_email(email))


def create_user(email, role="member", name="", password=None):
    """A new account; 409 when the e-mail is taken."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    with write_transaction():
        if find_user_by_email(email):
            fail(409, "An account with this e-mail already exists.")
        return User.create(email=normalize_email(email), role=role, name=name,
                           password_hash=hash_password(password) if password else None)


def update_profile(user, name=None, password=None, old_password=None, signed_in_at=None,
                   keep_session=None, keep_family=None):
    """Change name and/or password (see `change_password` for the proof a password needs)."""
    if password is not None:
        change_password(user, password, old_password, signed_in_at, keep_session, keep_family)
    if name is not None:
        with write_transaction():
            User.update(name=name).where(User.id == user.id).execute()
        user.name = name
    return user


def fresh(signed_in_at):
    """True when a sign-in at `signed_in_at` (naive UTC) is recent enough to prove the account."""
    from datetime import timedelta

    from flask import current_app

    from avycenna.clock import utcnow

    window = timedelta(seconds=int(current_app.config["FRESH_SIGNIN_SECONDS"]))
    return signed_in_at is not None and utcnow() - window <= signed_in_at <= utcnow() + timedelta(seconds=5)


def change_password(user, password, old_password=None, signed_in_at=None, keep_session=None, keep_family=None):
    """Set or change the password, given fresh proof of the account: the current password, or
    a sign-in within FRESH_SIGNIN_SECONDS (`signed_in_at`; an API key has none, so a key alone
    never can). Every other sign-in of the account ends (refresh families and browser
    sessions but the caller's own, `keep_family` / `keep_session`)."""
    from avycenna.audit.service import record
    from avycenna.auth.passwords import verify_password
    from avycenna.auth.sessions import end_sign_ins
    from avycenna.errors import fail

    if old_password:
        if not (user.password_hash and verify_password(user.password_hash, old_password)):
            record("auth.password_change", outcome="failure", user_id=user.id)
            fail(403, "Old password is incorrect.")  # a refused proof, not a malformed body: no 422
    elif not fresh(signed_in_at):
        fail(403, STALE_PROOF)
    password_hash = hash_password(password)
    with write_transaction():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        end_sign_ins(user, keep_session=keep_session, keep_family=keep_family)
        record("auth.password_change", user_id=user.id)
    user.password_hash = password_hash


STALE_PROOF = ("Give your current password, or sign in again first: a password can be set or changed "
               "only with the current password or within a few minutes of signing in.")
