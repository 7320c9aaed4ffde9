"""The README's walkthrough works as printed, in order, on a fresh install.

The `sh` blocks between `<!-- walkthrough:start` and `<!-- walkthrough:end -->` run one
after another in `bash` with the real `curl`, against `python app.py` (waitress) on a
fresh instance folder, with a real SMTP server (aiosmtpd) receiving the sign-in code.
Only what the README says to set is changed: the server address (`127.0.0.1:8000` → the
test's port) and a `NAME=value   # set this: …` line's value (the code from the mail).
Shell variables and functions carry from one block to the next, as in one terminal; a
failing command or an HTTP error status stops the walk (`set -euo pipefail`, and curl
is run with `--fail-with-body` so a 4xx/5xx is an error, not a JSON line scrolling by).
"""
import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import Mailbox, free_port
from tests.test_instance import ROOT as ROOT_DIR, start_server, stop

START, END = "<!-- walkthrough:start", "<!-- walkthrough:end -->"
README_ADDRESS = "http://127.0.0.1:8000"
SET_THIS = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>\S+)(?P<note>\s+#\s*set this\b.*)$", re.M)
ASSIGNED = re.compile(r"(?:^|[;&|(]\s*)([A-Z][A-Z0-9_]*)=", re.M)


def walkthrough_blocks(readme_text):
    """The walkthrough's sh blocks, in printed order (fenced blocks of other languages skipped)."""
    start = readme_text.index(START)
    section = readme_text[start:readme_text.index(END, start)]
    return [body for lang, body in re.findall(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", section, re.M | re.S)
            if lang in ("sh", "bash", "console", "")]


def test_extraction_finds_only_the_walkthrough_blocks():
    text = ("```sh\ncurl outside\n```\n" + START + " -->\n```sh\necho one\n```\n\n```python\nx = 1\n```\n"
            "```sh\necho two\n```\n" + END + "\n```sh\ncurl after\n```\n")
    assert walkthrough_blocks(text) == ["echo one\n", "echo two\n"]


class Walk:
    """One terminal: runs blocks in bash, carrying variables and functions between them."""

    def __init__(self, workdir, env, names):
        self.state, self.env, self.names = workdir / "state.sh", env, sorted(names)
        self.state.write_text("")
        self.outputs = []

    def run(self, block):
        script = "\n".join([
            "set -euo pipefail",
            f"source {self.state}",
            'curl() { command curl --fail-with-body --show-error "$@"; }',
            block,
            f"{{ declare -p {' '.join(self.names)} 2>/dev/null || true; declare -f; }} > {self.state}.new",
            f"mv {self.state}.new {self.state}",
        ])
        done = subprocess.run(["bash", "-c", script], cwd=ROOT_DIR, env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"README block failed:\n{block}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        self.outputs.append(done.stdout)
        return done.stdout


def sign_in_code(mailbox, address):
    body = mailbox.last_body(address)
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough needs the curl command")
def test_readme_walkthrough_runs_in_order(tmp_path, smtp):
    mailbox, smtp_port = smtp
    with open(os.path.join(ROOT_DIR, "README.md")) as fh:
        blocks = walkthrough_blocks(fh.read())
    assert len(blocks) >= 10
    port = free_port()
    server_env = {"AVYCENNA_MAIL_HOST": "127.0.0.1", "AVYCENNA_MAIL_PORT": str(smtp_port)}
    proc = start_server(tmp_path / "instance", port, server_env)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env["AVYCENNA_INSTANCE_PATH"] = str(tmp_path / "instance")
    names = {name for block in blocks for name in ASSIGNED.findall(block)}
    walk = Walk(tmp_path, env, names)
    to_set = {"CODE": lambda: sign_in_code(mailbox, "alex@example.com")}
    try:
        for block in blocks:
            block = block.replace(README_ADDRESS, f"http://127.0.0.1:{port}")
            for line in SET_THIS.finditer(block):
                assert line["name"] in to_set or line["value"].startswith("http://127.0.0.1:"), line[0]
                if line["name"] in to_set:
                    block = block.replace(line[0], f"{line['name']}={to_set[line['name']]()}{line['note']}")
            walk.run(block)
    finally:
        stop(proc)
    out = "\n".join(walk.outputs)
    assert "['patient_not_id_verified', 'subscription_required']" in out
    by_block = [o.strip().splitlines() for o in walk.outputs]
    assert ["submitted"] in [lines[-1:] for lines in by_block]      # released once staff cleared it
    assert "answered" in out and "Most likely a post-viral cough" in out
    assert "Dr. Sarah Chen" in by_block[-1]  # the access log names who read the data
    assert "A clinician has answered your question" in [m["Subject"] for m in mailbox.to("alex@example.com")]
