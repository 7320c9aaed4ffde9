"""The `avk_` key format: prefix, 128+ bits of randomness, and a checksum.

`avk_` + 22 base62 characters (~131 bits) + 6 base62 characters of CRC32, so a
leaked key can be recognised offline (as GitHub's tokens can) without the server.
Keys are high-entropy, so a SHA-256 digest is the right stored form: it is looked
up by equality and never needs a slow hash.
"""
import hashlib
import secrets
import string
import zlib

PREFIX = "avk_"
ALPHABET = string.digits + string.ascii_letters
BODY_LENGTH = 22
CHECKSUM_LENGTH = 6


def _base62(number, width):
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def checksum(body):
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_key():
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return PREFIX + body + checksum(body)


def looks_valid(key):
    """Format and checksum check: cheap, offline, no database."""
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH:
        return False
    body, check = key[len(PREFIX):-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
    return all(c in ALPHABET for c in body) and secrets.compare_digest(checksum(body), check)


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


def visible_prefix(key):
    return key[:len(PREFIX) + 8]
