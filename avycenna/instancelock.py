"""One lock per instance folder: servers and workers share it, a restore takes it alone.

`python app.py` and `flask --app app worker` hold `instance/instance.lock` shared for as
long as they run; `flask --app app restore` needs it exclusive, so it cannot replace the
database (or the secret key) under a process that is using them. The lock is the kernel's
(`flock`): it goes away with the process that held it, even after a SIGKILL, so a crashed
server never leaves a stale lock behind. It covers the processes on this machine that use
this instance folder; servers elsewhere that share a PostgreSQL database are not seen.
"""
import fcntl
import os
from contextlib import contextmanager

LOCK_NAME = "instance.lock"


class InstanceBusy(Exception):
    """The instance is in use in a way that forbids what was asked; the message says what to do."""


def lock_path(instance_path):
    return os.path.join(instance_path, LOCK_NAME)


def open_lock(instance_path):
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    return os.open(lock_path(instance_path), os.O_RDWR | os.O_CREAT, 0o600)


def hold_shared(instance_path):
    """Take the lock shared (a server or a worker) and keep it until the process ends.

    Returns the open descriptor: keep a reference while serving. Raises InstanceBusy while a
    restore holds the lock."""
    fd = open_lock(instance_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InstanceBusy(f"a restore is running on the instance in {instance_path}; "
                           "start again when it has finished") from None
    return fd


@contextmanager
def exclusive(instance_path):
    """Hold the lock alone for the block (a restore); InstanceBusy if a server or worker runs."""
    fd = open_lock(instance_path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InstanceBusy(busy_message(instance_path, holders(fd))) from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def busy_message(instance_path, pids):
    """One line: who uses the instance and how to stop it."""
    if not pids:
        return (f"a server or worker is using the instance in {instance_path} (it holds "
                f"{LOCK_NAME}): stop it (Ctrl-C where it runs, or your service manager, e.g. "
                "`systemctl stop avycenna`), then run the restore again")
    described = ", ".join(f"pid {pid}: {command}" if (command := command_of(pid)) else f"pid {pid}"
                          for pid in pids)
    kill = " ".join(str(pid) for pid in pids)
    return (f"a server or worker is using the instance in {instance_path} ({described}): stop "
            f"it (Ctrl-C where it runs, `kill {kill}`, or your service manager, e.g. `systemctl "
            "stop avycenna`), then run the restore again")


def holders(fd):
    """The ids of the processes holding the lock on `fd`'s file (Linux /proc/locks), else []."""
    st = os.fstat(fd)
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    pids = []
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  READ 1234 fe:00:1474578 0 EOF"; waiting locks start with "->"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == ident and fields[4].isdigit():
            pid = int(fields[4])
            if pid != os.getpid() and pid not in pids:
                pids.append(pid)
    return pids


def command_of(pid):
    """The command line of `pid`, shortened, or "" if it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = fh.read().split(b"\0")
    except OSError:
        return ""
    words = [os.path.basename(w.decode(errors="replace")) if i == 0 else w.decode(errors="replace")
             for i, w in enumerate(words) if w]
    return " ".join(words)[:80]
