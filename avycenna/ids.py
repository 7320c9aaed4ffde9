"""Prefixed random identifiers in the style `usr_7jRtHvBk2QxZ`."""
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
LENGTH = 12  # ~71 bits: unguessable and collision-free at any clinic's scale


def new_id(prefix):
    return prefix + "_" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
