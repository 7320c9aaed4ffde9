"""A newcomer's first commands: `make test` as a non-root user, `python app.py` on a busy port."""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import free_port
from tests.test_instance import ROOT

MISSING = "/nonexistent/avycenna-test/chromium"


@pytest.fixture
def open_dir():
    """A folder any user can read and write (pytest's tmp_path is private to its user)."""
    path = tempfile.mkdtemp(prefix="avycenna-newcomer-")
    os.chmod(path, 0o777)
    yield pathlib.Path(path)
    shutil.rmtree(path)


def make_chromium(tmp_path, path_dirs):
    """`make chromium` as a user who is not root, with only `path_dirs` on PATH.

    make reads a copy of the Makefile in `tmp_path`: the checkout may sit in a folder only its
    owner can enter (`mktemp -d`, a private home), and the user running make is someone else.
    The chromium target needs nothing else from the checkout."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    checkout.chmod(0o755)
    shutil.copyfile(os.path.join(ROOT, "Makefile"), checkout / "Makefile")
    (checkout / "Makefile").chmod(0o644)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(mode=0o755, exist_ok=True)
    for tool in ("make", "sh", "id"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {"PATH": os.pathsep.join([str(bin_dir), *path_dirs]), "HOME": str(tmp_path)}
    command = ["make", "-s", "-C", str(checkout), "chromium", f"CHROMIUM={MISSING}"]
    if os.geteuid() == 0:
        command = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


needs_non_root = pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"),
                                    reason="running as root without setpriv to drop privileges")


@needs_non_root
def test_make_test_without_root_or_sudo_says_how_to_install_chromium(open_dir):
    done = make_chromium(open_dir, [])
    assert done.returncode == 0, done.stderr
    assert "apt-get install chromium" in done.stdout and "As root" in done.stdout
    assert "Permission denied" not in done.stderr and "apt-get" not in done.stderr


@needs_non_root
def test_make_test_uses_sudo_when_present(open_dir):
    tmp_path = open_dir
    fake = tmp_path / "sudo-bin"
    fake.mkdir(mode=0o755)
    (fake / "sudo").write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/sudo-called\n")
    (fake / "sudo").chmod(0o755)
    done = make_chromium(tmp_path, [str(fake)])
    assert done.returncode == 0, done.stderr
    assert "sudo apt-get" in done.stdout
    assert "apt-get install -y -qq chromium" in (tmp_path / "sudo-called").read_text()


def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
        env["AVYCENNA_INSTANCE_PATH"] = str(tmp_path / "instance")
        done = subprocess.run([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"AVYCENNA cannot listen on 127.0.0.1:{port}: the port is already in use (another server is "
        "running?). Stop it, or choose another with --port."]
    assert "Traceback" not in done.stdout + done.stderr
