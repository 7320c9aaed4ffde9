"""Rules about accounts, callable without HTTP."""
from avycenna.auth.models import ROLES, User
from avycenna.auth.passwords import hash_password
from avycenna.db import write_transaction
from avycenna.errors import fail


def normalize_email(email):
    return email.strip().lower()


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


def update_profile(user, name=None, password=None, old_password=None):
    """Change name and/or password; the old password must match when one is set."""
    from avycenna.auth.passwords import verify_password
    from avycenna.errors import validation_error

    if password is not None and user.password_hash and not verify_password(
            user.password_hash, old_password or ""):
        validation_error(["body", "old_password"], "Old password is incorrect.")
    changes = {}
    if name is not None:
        changes["name"] = name
    if password is not None:
        changes["password_hash"] = hash_password(password)
    if changes:  # only these columns: never a stale copy of the whole account
        with write_transaction():
            User.update(**changes).where(User.id == user.id).execute()
    for field, value in changes.items():
        setattr(user, field, value)
    return user
