"""The OAuth 2.1 authorization server: an assistant connects to `/mcp` by the person signing in and
approving, with PKCE (S256 only), single-use codes, rotating refresh tokens, resource-bound tokens,
revocation that ends tokens on the next request, and RFC 6749 errors for bad input."""
import json

import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from avycenna.db import database
from tests.mcp_client import run
from tests.oauth_helpers import (BASE, LIST_PATIENTS, PASSWORD, REDIRECT, RESOURCE, STATELESS, authorize_path,
                                 connect, csrf, exchange, flask_consent, flask_sign_in, http_approve, mcp_status,
                                 pkce, refresh, register)


@pytest.fixture
def app_config(app_config):
    app_config["SESSION_COOKIE_SECURE"] = False  # the live test's HTTP client signs in over plain http
    return app_config


@pytest.fixture
def person(make_user):
    return make_user("member", password=PASSWORD)


@pytest.fixture
def web(app):
    return app.test_client()


def audit_rows(app, **where):
    from avycenna.audit.models import AuditEvent

    with app.app_context(), database.obj.connection_context():
        query = AuditEvent.select()
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(query)


# The official MCP client ---------------------------------------------------------------------

class MemoryStorage:
    def __init__(self):
        self.tokens, self.client_info = None, None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def test_the_mcp_sdk_oauth_client_connects_lists_and_calls_account_tools(app, live_server, person, token_for):
    """The SDK's OAuthClientProvider: 401 challenge → RFC 9728 → RFC 8414 → RFC 7591 registration →
    the consent page (signed in and approved over HTTP by a headless handler) → code + PKCE → token →
    the account tool, as the person, audited as the client on their behalf."""
    r = requests.post(live_server.url + "/api/v1/patients", headers=token_for(person), timeout=30,
                      json={"name": "Ada Example", "date_of_birth": "1980-01-02", "relationship": "self"})
    assert r.status_code == 201, r.text
    browser, seen, storage = requests.Session(), {}, MemoryStorage()

    async def redirect_handler(url):
        seen["authorize"] = url

    async def callback_handler():
        answer = http_approve(browser, live_server.url, person.email, seen["authorize"])
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"))

    metadata = OAuthClientMetadata(client_name="SDK Assistant", redirect_uris=[REDIRECT],
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                   token_endpoint_auth_method="none")
    auth = OAuthClientProvider(live_server.url + "/mcp", metadata, storage, redirect_handler, callback_handler)

    async def go():
        async with httpx2.AsyncClient(auth=auth, timeout=60) as http, \
                Client(streamable_http_client(live_server.url + "/mcp", http_client=http)) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            listed = await client.call_tool("list_patients", {})
            made = await client.call_tool("create_patient", {"name": "Kim Example", "date_of_birth": "2015-06-01",
                                                             "relationship": "child"})
            return tools, listed, made

    tools, listed, made = run(go())
    assert {"list_patients", "create_patient", "open_encounter"} <= tools
    assert not listed.is_error, listed.content[0].text
    assert [p["name"] for p in listed.structured_content["data"]] == ["Ada Example"]
    assert not made.is_error, made.content[0].text
    query = dict(part.split("=", 1) for part in seen["authorize"].split("?", 1)[1].split("&"))
    assert query["code_challenge_method"] == "S256" and "resource" in query
    client_id = storage.client_info.client_id
    assert storage.tokens.access_token.startswith("avat_") and storage.tokens.refresh_token
    created = audit_rows(app, action="patient.create", actor_type="oauth")
    assert len(created) == 1 and created[0].actor_user_id == person.id and created[0].actor_key_id == client_id
    consent = audit_rows(app, action="oauth.consent")
    assert len(consent) == 1 and consent[0].actor_user_id == person.id


# Metadata and the challenge ------------------------------------------------------------------

def test_metadata_documents_have_their_rfcs_required_fields(client):
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"):
        assert server[field], field
    assert server["issuer"] == BASE and server["code_challenge_methods_supported"] == ["S256"]
    assert server["registration_endpoint"] == BASE + "/oauth/register"
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
        resource = client.get(path).get_json()
        assert resource["resource"] == RESOURCE and resource["authorization_servers"] == [BASE]


def test_account_tools_challenge_without_a_token_and_the_front_door_stays_open(client):
    r = client.post("/mcp", json=LIST_PATIENTS, headers=STATELESS)
    assert r.status_code == 401
    header = r.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ") and \
        f'resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp"' in header
    listed = client.post("/mcp", headers=STATELESS, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert listed.status_code == 200 and "open_encounter" in listed.get_data(as_text=True)
    opened = client.post("/mcp", headers=STATELESS, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "open_encounter", "arguments": {"query": "x" * 600}}})
    assert opened.status_code == 200 and '"isError":false' in opened.get_data(as_text=True).replace(" ", "")


def test_an_invalid_or_expired_token_is_a_401_naming_the_resource_metadata(client):
    r = client.post("/mcp", json=LIST_PATIENTS, headers={**STATELESS, "Authorization": "Bearer avat_nope"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert "resource_metadata=" in r.headers["WWW-Authenticate"]


# The flow and its rules ----------------------------------------------------------------------

def test_a_token_acts_as_the_person_under_the_same_rules(client, web, person):
    client_id, tokens = connect(client, web, person)
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "mcp offline_access"
    status, r = mcp_status(client, tokens["access_token"])
    assert status == 200 and '"isError":false' in r.get_data(as_text=True).replace(" ", "")
    assert r.headers["X-RateLimit-Limit"]  # its own per-credential budget


def test_pkce_is_required_and_s256_only(client, web, person):
    client_id = register(client)["client_id"]
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    for extra in ({"code_challenge": None, "code_challenge_method": None}, {"code_challenge_method": "plain"},
                  {"code_challenge_method": None}):
        r = web.get(authorize_path(client_id, challenge, **extra))
        assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"], extra
        assert r.headers["Location"].startswith(REDIRECT) and "state=st-1" in r.headers["Location"]
    answer = flask_consent(web, authorize_path(client_id, challenge))
    wrong = exchange(client, client_id, answer["code"], pkce()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    missing = exchange(client, client_id, flask_consent(web, authorize_path(client_id, challenge))["code"], "")
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


def test_a_code_is_single_use_and_its_reuse_revokes_what_it_issued(app, client, web, person):
    client_id = register(client)["client_id"]
    flask_sign_in(web, person.email)
    verifier, challenge = pkce()
    code = flask_consent(web, authorize_path(client_id, challenge))["code"]
    first = exchange(client, client_id, code, verifier)
    assert first.status_code == 200
    assert mcp_status(client, first.get_json()["access_token"])[0] == 200
    again = exchange(client, client_id, code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert mcp_status(client, first.get_json()["access_token"])[0] == 401
    assert refresh(client, client_id, first.get_json()["refresh_token"]).status_code == 400
    assert audit_rows(app, action="oauth.code_reuse")


def test_refresh_rotates_and_reuse_revokes_the_connection(app, client, web, person):
    client_id, tokens = connect(client, web, person)
    r = refresh(client, client_id, tokens["refresh_token"])
    assert r.status_code == 200, r.get_json()
    rotated = r.get_json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert mcp_status(client, tokens["access_token"])[0] == 401  # the old access token ended with its refresh
    assert mcp_status(client, rotated["access_token"])[0] == 200
    replay = refresh(client, client_id, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert mcp_status(client, rotated["access_token"])[0] == 401  # the whole connection is revoked
    assert refresh(client, client_id, rotated["refresh_token"]).status_code == 400
    assert audit_rows(app, action="oauth.refresh_reuse")


def test_another_client_cannot_use_a_refresh_token(client, web, person):
    client_id, tokens = connect(client, web, person)
    other = register(client)["client_id"]
    assert refresh(client, other, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert refresh(client, client_id, tokens["refresh_token"]).status_code == 200  # not spent by the attempt


def test_disconnecting_on_the_account_page_ends_the_tokens_at_once(client, web, person):
    client_id, tokens = connect(client, web, person)
    page = web.get("/account/apps").get_data(as_text=True)
    assert "Test Assistant" in page and client_id in page
    action = page.split('action="/account/apps/', 1)[1].split('"', 1)[0]
    r = web.post("/account/apps/" + action, data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    assert mcp_status(client, tokens["access_token"])[0] == 401
    assert refresh(client, client_id, tokens["refresh_token"]).status_code == 400
    assert "No connected apps" in web.get("/account/apps").get_data(as_text=True)


def test_someone_else_cannot_disconnect_a_connection(client, web, person, make_user, app):
    _, tokens = connect(client, web, person)
    stranger, browser = make_user("member", password=PASSWORD), app.test_client()
    flask_sign_in(browser, stranger.email)
    page = web.get("/account/apps").get_data(as_text=True)
    action = page.split('action="/account/apps/', 1)[1].split('"', 1)[0]
    token = csrf(browser.get("/account/apps").get_data(as_text=True))
    browser.post("/account/apps/" + action, data={"csrf_token": token})
    assert mcp_status(client, tokens["access_token"])[0] == 200


def test_rfc7009_revocation(client, web, person):
    client_id, tokens = connect(client, web, person)
    r = client.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": client_id})
    assert r.status_code == 200
    assert mcp_status(client, tokens["access_token"])[0] == 401
    assert refresh(client, client_id, tokens["refresh_token"]).status_code == 400  # its refresh token too (§2.1)
    client_id, tokens = connect(client, web.application.test_client(), person)
    assert client.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": client_id}).status_code == 200
    assert mcp_status(client, tokens["access_token"])[0] == 401  # a refresh token: the connection
    unknown = client.post("/oauth/revoke", data={"token": "avat_unknown", "client_id": client_id})
    assert unknown.status_code == 200  # RFC 7009 §2.2


def test_tokens_are_bound_to_the_mcp_resource(client, web, person):
    client_id, tokens = connect(client, web, person)
    r = client.get("/api/v1/patients", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert r.status_code == 401 and "only" in r.get_json()["detail"]
    verifier, challenge = pkce()
    for resource in ("https://elsewhere.example/api", "http://[::1/mcp"):
        r = web.get(authorize_path(client_id, challenge, resource=resource))
        assert r.status_code == 302 and "error=invalid_target" in r.headers["Location"]
    code = flask_consent(web, authorize_path(client_id, challenge))["code"]
    wrong = exchange(client, client_id, code, verifier, resource="https://elsewhere.example/api")
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_target"


def test_secrets_are_stored_only_as_hashes(app, client, web, person):
    from avycenna.oauth.models import OAuthToken

    _, tokens = connect(client, web, person)
    with app.app_context(), database.obj.connection_context():
        stored = json.dumps([row.__data__ for row in OAuthToken.select()], default=str)
    assert tokens["access_token"] not in stored and tokens["refresh_token"] not in stored


def test_deny_returns_access_denied_to_the_client(client, web, person):
    client_id = register(client)["client_id"]
    flask_sign_in(web, person.email)
    answer = flask_consent(web, authorize_path(client_id, pkce()[1]), decision="deny")
    assert answer["error"] == "access_denied" and answer["state"] == "st-1"


def test_the_consent_page_names_the_client_scopes_patients_and_expiry(client, web, person, token_for):
    client.post("/api/v1/patients", headers=token_for(person),
                json={"name": "Ada Example", "date_of_birth": "1980-01-02", "relationship": "self"})
    client_id = register(client, client_name="Helpful Bot")["client_id"]
    assert web.get(authorize_path(client_id, pkce()[1])).status_code == 302  # sign in first
    flask_sign_in(web, person.email)
    page = web.get(authorize_path(client_id, pkce()[1]))
    text = page.get_data(as_text=True)
    assert "Helpful Bot" in text and "Ada Example" in text and "open and follow" in text and "Until" in text
    assert "form-action 'self' http://127.0.0.1:1" in page.headers["Content-Security-Policy"]
    r = web.post(authorize_path(client_id, pkce()[1]), data={"decision": "allow"})  # no CSRF token
    assert r.status_code == 400


# Bad input -----------------------------------------------------------------------------------

def test_a_redirect_uri_not_registered_or_an_unknown_client_is_a_page_never_a_redirect(client, web, person):
    client_id = register(client)["client_id"]
    flask_sign_in(web, person.email)
    for path in (authorize_path(client_id, pkce()[1], redirect_uri="http://127.0.0.1:2/evil"),
                 authorize_path("cli_unknown12345", pkce()[1]), "/oauth/authorize"):
        r = web.get(path)
        assert r.status_code == 400 and "Location" not in r.headers, path
        assert "cannot be approved" in r.get_data(as_text=True)


@pytest.mark.parametrize("body, error", [
    ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb"] * 6}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb#x"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://[::1/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": "https://a.example/cb"}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb"], "client_name": "x" * 201}, "invalid_client_metadata"),
    ({"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]}, "invalid_client_metadata"),
    ({"redirect_uris": ["https://a.example/cb"], "client_name": {"a": 1}}, "invalid_client_metadata"),
    ([1, 2], "invalid_redirect_uri"),
])
def test_registration_refuses_bad_metadata_in_rfc7591s_shape(client, body, error):
    r = client.post("/oauth/register", json=body)
    assert r.status_code == 400 and r.get_json()["error"] == error, r.get_json()
    assert r.get_json()["error_description"]


@pytest.mark.parametrize("data", [
    {}, {"grant_type": "password", "username": "a", "password": "b"}, {"grant_type": "authorization_code"},
    {"grant_type": "authorization_code", "code": "x", "client_id": "cli_unknown12345"},
    {"grant_type": "refresh_token", "client_id": "cli_unknown12345", "refresh_token": "avrt_x"},
    {"grant_type": "client_credentials", "client_id": "x"},
])
def test_the_token_endpoint_answers_bad_requests_in_rfc6749s_shape(client, data):
    r = client.post("/oauth/token", data=data)
    assert r.status_code in (400, 401) and set(r.get_json()) >= {"error"}, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"


def test_malformed_bodies_and_wrong_methods_are_oauth_errors(client):
    r = client.post("/oauth/register", data="{nope", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_request"
    r = client.get("/oauth/token")
    assert r.status_code == 405 and r.get_json()["error"] == "invalid_request"


def test_tokens_expire_and_housekeeping_deletes_what_ended(app, client, web, person):
    import time_machine
    from datetime import datetime, timedelta, timezone

    from avycenna.housekeeping import run as housekeeping
    from avycenna.oauth.models import OAuthConnection, OAuthToken

    client_id, tokens = connect(client, web, person)
    later = datetime.now(timezone.utc) + timedelta(seconds=app.config["OAUTH_ACCESS_TOKEN_TTL"] + 5)
    with time_machine.travel(later, tick=False):
        assert mcp_status(client, tokens["access_token"])[0] == 401  # the access token ran out
        r = refresh(client, client_id, tokens["refresh_token"])
        assert r.status_code == 200  # the refresh token did not
    after = datetime.now(timezone.utc) + timedelta(seconds=app.config["OAUTH_CONNECTION_TTL"] + 5)
    with time_machine.travel(after, tick=False):
        assert mcp_status(client, r.get_json()["access_token"])[0] == 401
        assert refresh(client, client_id, r.get_json()["refresh_token"]).status_code == 400
        with app.app_context(), database.obj.connection_context():
            assert housekeeping()["OAuth records deleted"] >= 1
            assert OAuthConnection.select().count() == 0 and OAuthToken.select().count() == 0


def test_registrations_never_used_are_deleted_after_a_day(app, client):
    import time_machine
    from datetime import datetime, timedelta, timezone

    from avycenna.housekeeping import run as housekeeping
    from avycenna.oauth.models import OAuthClient

    client_id = register(client)["client_id"]
    with app.app_context(), database.obj.connection_context():
        housekeeping()
        assert OAuthClient.get_or_none(OAuthClient.id == client_id) is not None  # a day to use it
        with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=1, minutes=1), tick=False):
            housekeeping()
        assert OAuthClient.get_or_none(OAuthClient.id == client_id) is None
