"""Files that hold patient data (bulk exports, uploaded imports, the instance key): readable by
the server's own account only, 0600 files in 0700 folders, whatever the process umask.

`private_dir` creates every missing folder of a path with 0700 (and tightens the last one if it
already existed); `open_private` creates a file 0600 before the first byte is written, so there
is no moment at which another account could open it.
"""
import os

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path):
    """Make `path` (and any missing parent) a 0700 folder; returns `path`."""
    missing = []
    head = os.path.abspath(path)
    while head and not os.path.isdir(head):
        missing.append(head)
        head = os.path.dirname(head)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            pass  # made meanwhile by another thread or process
        os.chmod(folder, DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened
    os.chmod(path, DIR_MODE)
    return path


def open_private(path, mode="w", encoding="utf-8"):
    """Open `path` for writing (`mode` "w", "wb", "a" or "ab"), created 0600 if new."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through os.open: tighten it
    return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding)
