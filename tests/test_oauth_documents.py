"""Client ID Metadata Documents: an assistant whose client_id is the https URL of its metadata
(the MCP authorization spec's preferred way) connects with no registration. The documents are
served over TLS on loopback by the test (a CA made by trustme, trusted through
OAUTH_CLIENT_DOCUMENT_CA_BUNDLE; 127.0.0.1 let through by OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS)."""
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
import requests
import trustme
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from tests.mcp_client import run
from tests.oauth_helpers import (
    PASSWORD, REDIRECT, authorize_path, csrf, exchange, flask_consent, flask_sign_in, http_approve, pkce
)
from tests.test_oauth import MemoryStorage, audit_rows


class DocumentSite:
    """An https site on loopback: path → (status, body bytes, headers); counts GETs per path."""

    def __init__(self, tmp_path):
        ca = trustme.CA()
        self.ca_file = str(tmp_path / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.pages, self.hits = {}, {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                status, body, headers = site.pages.get(self.path, (404, b"no", {}))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"

    def document(self, path, **fields):
        """Serve a client metadata document at `path` (its own URL as client_id unless given)."""
        url = self.base + path
        body = {"client_id": url, "client_name": "Document Assistant", "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                "token_endpoint_auth_method": "none", **fields}
        self.pages[path] = (200, json.dumps(body).encode(), {})
        return url

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path):
    site = DocumentSite(tmp_path)
    yield site
    site.close()


@pytest.fixture
def app_config(app_config, site):
    app_config.update(SESSION_COOKIE_SECURE=False, OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS=["127.0.0.1"],
                      OAUTH_CLIENT_DOCUMENT_CA_BUNDLE=site.ca_file)
    return app_config


@pytest.fixture
def person(make_user):
    return make_user("member", password=PASSWORD)


def test_the_mcp_sdk_connects_with_a_client_id_metadata_document(app, live_server, site, person):
    """The SDK's OAuthClientProvider with `client_metadata_url`: the server advertises the
    documents, the SDK skips registration, the consent page names the document's client, and the
    token works for account tools — audited as that client."""
    url = site.document("/assistant/client.json")
    browser, seen, storage = requests.Session(), {}, MemoryStorage()

    async def redirect_handler(authorize_url):
        seen["authorize"] = authorize_url

    async def callback_handler():
        page = browser.get(seen["authorize"])
        seen["consent"] = page.text
        answer = http_approve(browser, live_server.url, person.email, seen["authorize"])
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"))

    metadata = OAuthClientMetadata(client_name="Document Assistant", redirect_uris=[REDIRECT],
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                   token_endpoint_auth_method="none")
    auth = OAuthClientProvider(live_server.url + "/mcp", metadata, storage, redirect_handler, callback_handler,
                               client_metadata_url=url)

    async def go():
        async with httpx2.AsyncClient(auth=auth, timeout=60) as http, \
                Client(streamable_http_client(live_server.url + "/mcp", http_client=http)) as client:
            return await client.call_tool("create_patient", {"name": "Kim Example", "date_of_birth": "2015-06-01",
                                                             "relationship": "child"})

    made = run(go())
    assert not made.is_error, made.content[0].text
    assert storage.client_info.client_id == url and "client_secret" not in storage.client_info.model_dump(
        exclude_none=True)
    assert requests.get(live_server.url + "/.well-known/oauth-authorization-server", timeout=30).json()[
        "client_id_metadata_document_supported"] is True
    created = audit_rows(app, action="patient.create", actor_type="oauth")
    assert len(created) == 1 and created[0].actor_user_id == person.id
    assert site.hits["/assistant/client.json"] == 1  # kept for OAUTH_CLIENT_DOCUMENT_TTL, not fetched per request


def _authorize(client, web, person, url):
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    return web.get(authorize_path(url, challenge)), verifier


@pytest.mark.parametrize("case, reason", [
    ({"client_id": "https://elsewhere.example/client.json"}, "client_id is not its own URL"),
    ({"client_secret": "s3cret"}, "must not hold a client secret"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "token_endpoint_auth_method"),
    ({"redirect_uris": ["http://evil.example/cb"]}, "redirect_uris"),
    ({"client_name": "x" * 5000}, "over 5120 bytes"),
])
def test_a_document_that_breaks_the_rules_is_refused_with_its_reason(app, client, site, person, case, reason):
    url = site.document("/bad/client.json", **case)
    page, _ = _authorize(client, app.test_client(), person, url)
    assert page.status_code == 400 and reason in page.get_data(as_text=True), page.get_data(as_text=True)
    r = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x", "client_id": url,
                                          "redirect_uri": REDIRECT, "code_verifier": "v" * 43})
    assert r.status_code in (400, 401) and r.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("status, headers, reason", [
    (404, {}, "answered 404"),
    (302, {"Location": "/elsewhere.json"}, "answered 302"),  # redirects are not followed
    (200, {}, "not JSON"),
])
def test_a_document_that_cannot_be_read_is_refused(app, client, site, person, status, headers, reason):
    site.pages["/odd/client.json"] = (status, b"<html>not a document</html>", headers)
    page, _ = _authorize(client, app.test_client(), person, site.base + "/odd/client.json")
    assert page.status_code == 400 and reason in page.get_data(as_text=True)


def test_a_private_address_is_refused_unless_an_admin_allows_it(app, client, site, person):
    url = site.document("/private/client.json")
    app.config["OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS"] = []
    page, _ = _authorize(client, app.test_client(), person, url)
    assert page.status_code == 400 and "OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS" in page.get_data(as_text=True)
    assert "/private/client.json" not in site.hits  # refused before any connection


def test_a_kept_document_is_fetched_again_when_stale_and_outlives_a_short_outage(app, client, site, person):
    url = site.document("/kept/client.json", client_name="First Name")
    web = app.test_client()
    flask_sign_in(web, person.email)

    def consent_page():
        return web.get(authorize_path(url, pkce()[1]))

    first = consent_page().get_data(as_text=True)
    assert "First Name" in first and f"It describes itself at <span class=\"mono\">{site.base[8:]}</span>" in first
    site.document("/kept/client.json", client_name="Second Name")
    assert "First Name" in consent_page().get_data(as_text=True)  # within the TTL: the kept copy
    app.config["OAUTH_CLIENT_DOCUMENT_TTL"] = 0
    assert "Second Name" in consent_page().get_data(as_text=True)
    site.pages["/kept/client.json"] = (503, b"down", {})
    page = consent_page()  # the site is down: the kept copy serves (for a day past its TTL)
    assert page.status_code == 200 and "Second Name" in page.get_data(as_text=True)
    assert "code" in flask_consent(web, authorize_path(url, pkce()[1]))
    site.pages.pop("/kept/client.json")  # gone (404): not an outage, the client is refused
    assert consent_page().status_code == 400


def test_a_redirect_uri_the_document_does_not_list_is_refused(app, client, site, person):
    url = site.document("/strict/client.json")
    web = app.test_client()
    flask_sign_in(web, person.email)
    page = web.get(authorize_path(url, pkce()[1], redirect_uri="http://127.0.0.1:2/other"))
    assert page.status_code == 400 and "Connect" not in page.get_data(as_text=True)


def test_a_document_clients_code_exchange_and_refresh(app, client, site, person):
    url = site.document("/flow/client.json")
    web = app.test_client()
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    answer = flask_consent(web, authorize_path(url, challenge))
    tokens = exchange(client, url, answer["code"], verifier).get_json()
    assert tokens["access_token"].startswith("avat_") and tokens["refresh_token"]
    page = web.get("/account/apps")
    assert "Document Assistant" in page.get_data(as_text=True)
    assert csrf(page.get_data(as_text=True))


def test_an_admin_disables_a_document_client_by_its_url(app, client, site, person, runner):
    url = site.document("/disabled/client.json")
    web = app.test_client()
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    tokens = exchange(client, url, flask_consent(web, authorize_path(url, challenge))["code"], verifier).get_json()
    result = runner.invoke(args=["oauth", "disable-client", url])
    assert result.exit_code == 0, result.output
    assert client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Authorization": "Bearer " + tokens["access_token"],
                                "Accept": "application/json, text/event-stream"}).status_code == 401
    assert web.get(authorize_path(url, pkce()[1])).status_code == 400  # and it cannot come back
