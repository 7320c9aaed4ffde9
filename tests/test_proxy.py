"""A real TLS proxy in front: Debian's nginx, run with the configuration block the operations
page gives (docs/install-and-operations.md), a certificate made here, and two `python app.py`
processes behind it with `AVYCENNA_TRUSTED_PROXIES=1`.

Through the proxy: links in mails and `checkout_url` are https on the public address, a
browser keeps its `Secure` page cookie, each client address has its own anonymous budget
(a forged `X-Forwarded-For` gives no fresh one), and the docs load.
"""
import os
import re
import socket
import subprocess
import time
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.agent_helpers import QUERY
from tests.conftest import free_port
from tests.test_readme_walkthrough import smtp  # noqa: F401 (fixture: a loopback SMTP server)
from tests.web_fixtures import sign_in_with_password

ROOT = os.path.dirname(os.path.dirname(__file__))
NGINX = os.environ.get("AVYCENNA_TEST_NGINX", "/usr/sbin/nginx")
PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.skipif(not os.path.exists(NGINX),
                                reason=f"{NGINX} is not installed (make test installs Debian's nginx-light)")


def documented_nginx_block():
    with open(os.path.join(ROOT, "docs", "install-and-operations.md")) as fh:
        text = fh.read()
    block = re.search(r"<!-- nginx:start -->\s*```nginx\n(.*?)```\s*<!-- nginx:end -->", text, re.S)
    assert block, "the operations page lost its nginx block"
    return block.group(1)


def nginx_conf(tmp_path, listen, upstreams, cert, key):
    """The documented block with this test's addresses (`listen` and each of `upstreams` as
    "address:port") and certificate, inside a minimal main file."""
    block = documented_nginx_block()
    for documented, upstream in zip(("127.0.0.1:8001", "127.0.0.1:8002"), upstreams):
        assert documented in block
        block = block.replace(documented, upstream)
    for documented, actual in (("listen 443 ssl;", f"listen {listen} ssl;"),
                               ("/etc/ssl/avycenna/fullchain.pem", str(cert)),
                               ("/etc/ssl/avycenna/privkey.pem", str(key))):
        assert documented in block
        block = block.replace(documented, actual)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    return "\n".join([
        "daemon off;", "worker_processes 1;", f"pid {tmp_path / 'nginx.pid'};",
        "user root;" if os.geteuid() == 0 else "",  # workers must reach the test's temp folders
        "events { worker_connections 256; }",
        "http {", "access_log off;",
        f"client_body_temp_path {temp['body']}; proxy_temp_path {temp['proxy']};",
        f"fastcgi_temp_path {temp['fastcgi']}; uwsgi_temp_path {temp['uwsgi']}; scgi_temp_path {temp['scgi']};",
        block, "}"])


def wait_for_port(port, proc, what):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not listen on {port}")


class FromAddress(HTTPAdapter):
    """Connections from another loopback address (127.0.0.2, …): another client to the proxy."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(address, ca_file):
    http = requests.Session()
    http.mount("https://", FromAddress(address))
    http.verify = ca_file
    http.trust_env = False  # REQUESTS_CA_BUNDLE (and proxy settings) from the environment would win
    return http


@pytest.fixture
def proxied(app, app_config, database_url, redis_url, tmp_path, smtp):  # noqa: F811
    """nginx on https://127.0.0.1:<port> in front of two app processes; yields (base, ca, mailbox)."""
    import trustme

    mailbox, smtp_port = smtp
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))

    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env.update(AVYCENNA_INSTANCE_PATH=str(tmp_path / "instance"), AVYCENNA_SECRET_KEY=app_config["SECRET_KEY"],
               DATABASE_URL=database_url, AVYCENNA_TRUSTED_PROXIES="1", AVYCENNA_DRAIN_SECONDS="0",
               AVYCENNA_RATELIMIT_ANONYMOUS="5/minute",
               AVYCENNA_RATELIMIT_KEY_PREFIX="avytest-proxy-" + uuid.uuid4().hex,
               AVYCENNA_QUEUE_NAME=app_config["QUEUE_NAME"],
               AVYCENNA_MAIL_HOST="127.0.0.1", AVYCENNA_MAIL_PORT=str(smtp_port))
    if redis_url:
        env.update(RATELIMIT_STORAGE_URI=redis_url, AVYCENNA_QUEUE_URL=redis_url)
    processes = []
    try:
        app_ports = [free_port(), free_port()]
        for port in app_ports:
            proc = subprocess.Popen([os.sys.executable, "app.py", "--port", str(port), "--threads", "4"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            processes.append(proc)
            wait_for_port(port, proc, "app.py")
        listen_port = free_port()
        conf = tmp_path / "nginx.conf"
        conf.write_text(nginx_conf(tmp_path, f"127.0.0.1:{listen_port}", [f"127.0.0.1:{port}" for port in app_ports],
                                   cert_file, key_file))
        nginx = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        processes.append(nginx)
        wait_for_port(listen_port, nginx, "nginx")
        yield f"https://127.0.0.1:{listen_port}", str(ca_file), mailbox
    finally:
        for proc in reversed(processes):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()


def test_links_use_the_public_https_address(proxied, make_user, key_for):
    base, ca_file, mailbox = proxied
    http = client_from("127.0.0.1", ca_file)
    asked = http.post(base + "/api/v1/agent/query", json={"query": QUERY}, timeout=30)
    assert asked.status_code in (200, 201, 202), asked.text
    assert asked.json()["checkout_url"].startswith(base + "/checkout/")

    doctor = make_user(role="clinician", name="Dr. Sarah Chen")
    grant = http.post(base + "/api/v1/grants", headers=key_for(doctor), timeout=30,
                      json={"email": "holder@example.test", "scopes": ["wearables"]})
    assert grant.status_code == 201, grant.text
    deadline = time.monotonic() + 10
    while not mailbox.to("holder@example.test") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"{base}/account/grants#grant-{grant.json()['id']}" in mailbox.last_body("holder@example.test").split()


def test_each_client_address_has_its_own_budget_and_a_forged_one_is_ignored(proxied):
    base, ca_file, _ = proxied
    first, second = client_from("127.0.0.2", ca_file), client_from("127.0.0.3", ca_file)
    codes = [first.get(base + "/api/v1/auth/me", timeout=30).status_code for _ in range(12)]
    # 5 a minute: shared across both processes on Redis, per process without it (round robin).
    assert codes[:5] == [401] * 5 and 429 in codes, codes
    assert codes[codes.index(429):] == [429] * (12 - codes.index(429)), codes
    for n in range(4):  # a header the client writes itself is not its address
        forged = first.get(base + "/api/v1/auth/me", headers={"X-Forwarded-For": f"198.51.100.{n + 1}"}, timeout=30)
        assert forged.status_code == 429
    other = second.get(base + "/api/v1/auth/me", timeout=30)
    assert other.status_code == 401
    assert int(other.headers["X-RateLimit-Remaining"]) == 4


def test_pages_keep_the_secure_cookie_and_docs_load(proxied, browser, make_user):
    base, _, _ = proxied
    user = make_user(password=PASSWORD, name="Robin Proxy")
    context = browser.new_context(base_url=base, ignore_https_errors=True)
    try:
        page = context.new_page()
        sign_in_with_password(page, user.email, PASSWORD)
        page.wait_for_url("**/account")
        page.goto("/account/keys")  # a second page: the cookie came back over https
        assert page.url == base + "/account/keys"
        cookies = [c for c in context.cookies() if c["domain"] == "127.0.0.1"]
        assert cookies and all(c["secure"] for c in cookies), cookies
        page.goto("/docs")
        page.wait_for_selector(".opblock")
    finally:
        context.close()
