"""Files a backup is made of: the copy, its manifest and the secret key, all 0600."""
import hashlib
import json
import os
import shutil

MANIFEST_SUFFIX = ".json"
KEY_SUFFIX = ".secret_key"


def create_private(path):
    """Create an empty file only its owner can read (fails if it exists)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def write_private(path, text):
    create_private(path)
    with open(path, "w") as fh:
        fh.write(text)
    fsync(path)


def copy_private(source, dest):
    create_private(dest)
    shutil.copyfile(source, dest)
    fsync(dest)


def write_manifest(backup_path, manifest):
    write_private(backup_path + MANIFEST_SUFFIX, json.dumps(manifest, indent=2) + "\n")


def read_manifest(backup_path):
    path = backup_path + MANIFEST_SUFFIX
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)
