"""`/mcp` over real HTTP (waitress on loopback) as any other request of the server: the same
pipeline (credential, budget and its headers, body bounds, JSON errors), never a 500, and the
official `mcp` client (streamable HTTP) still working end to end."""
import json

import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.agent_helpers import QUERY
from tests.mcp_client import run

ACCEPT = {"Accept": "application/json, text/event-stream"}
STATELESS = {**ACCEPT, "MCP-Protocol-Version": "2025-11-25"}  # no handshake needed
DISCOVER = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
PING = {"jsonrpc": "2.0", "id": 3, "method": "ping"}


@pytest.fixture
def url(live_server):
    return live_server.url + "/mcp"


def post(url, message, headers=None, **kwargs):
    return requests.post(url, json=message, headers={**ACCEPT, **(headers or {})}, timeout=60, **kwargs)


def budget(response):
    return {name: response.headers.get(name) for name in
            ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")}


def exchanges(url, steps, mode="auto", headers=None):
    """Run `steps(client)` with the official client; returns (its result, [(method, JSON-RPC method,
    status, X-RateLimit-Remaining)] of every HTTP request it made)."""
    seen = []

    async def note(response):
        body = response.request.content
        rpc = json.loads(body).get("method") if body else None
        seen.append((response.request.method, rpc, response.status_code,
                     response.headers.get("x-ratelimit-remaining")))

    async def go():
        async with httpx2.AsyncClient(headers=headers or {}, event_hooks={"response": [note]}) as http, \
                Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            return await steps(client)
    return run(go()), seen


def test_get_and_delete_are_405_with_allow_post(url):
    """A stateless server offers no SSE stream and no session: 405, as the transport spec allows
    (the TypeScript SDK and the Inspector send this GET after every connect)."""
    for method, headers in (("GET", {"Accept": "text/event-stream"}), ("DELETE", {"Mcp-Session-Id": "x"})):
        response = requests.request(method, url, headers=headers, timeout=10)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["Allow"] == "POST"
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Method not allowed."}
        assert budget(response)["X-RateLimit-Limit"] == "60"  # spent like any request


def test_bodies_get_the_apis_json_errors(url, client):
    # Over /mcp's own limit (MAX_CONTENT_LENGTH, 1 MB), within the server's (10 MB): the API's JSON 413.
    too_big = requests.post(url, data=b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                            headers={**ACCEPT, "Content-Type": "application/json"}, timeout=60)
    assert too_big.status_code == 413
    assert too_big.json() == {"detail": "Request body too large."}
    assert budget(too_big)["X-RateLimit-Limit"] == "60"
    wrong_type = requests.post(url, data=json.dumps(PING), headers={**ACCEPT, "Content-Type": "text/plain"},
                               timeout=10)
    assert wrong_type.status_code == 415
    assert wrong_type.json() == {"detail": "Request body must be JSON (Content-Type: application/json)."}
    nested = requests.post(url, data="[" * 2000 + "]" * 2000, headers={**ACCEPT, "Content-Type": "application/json"},
                           timeout=10)
    assert nested.status_code == 400 and nested.json() == {"detail": "JSON nested more than 32 levels deep."}
    twice = requests.post(url, data='{"jsonrpc": "2.0", "id": 1, "id": 2, "method": "ping"}',
                          headers={**ACCEPT, "Content-Type": "application/json"}, timeout=10)
    assert twice.status_code == 400 and "appears twice" in twice.json()["detail"]
    nul = post(url, {**PING, "params": {"_meta": {"note": "a\u0000b"}}})
    assert nul.status_code == 422 and nul.json()["detail"][0]["loc"][:2] == ["body", "params"]
    assert post(url, PING, STATELESS).status_code == 200  # and a good body still works


def test_every_protocol_request_spends_the_budget_once_and_says_so(url, client):
    """initialize, tools/list, tools/call … each HTTP request spends one (a tool's REST twin spends
    nothing more), and each answer carries the budget's headers."""
    async def steps(client):
        listed = await client.list_tools()
        opened = await client.call_tool("open_encounter", {"query": QUERY})
        return listed, opened

    for mode in ("auto", "legacy"):
        before = int(client.get("/api/v1/plans").headers["X-RateLimit-Remaining"])
        (listed, opened), seen = exchanges(url, steps, mode)
        assert {tool.name for tool in listed.tools} >= {"open_encounter", "list_patients"}
        assert not opened.is_error and opened.structured_content["status"] == "awaiting_checkout"
        posts = [(rpc, status, int(left)) for method, rpc, status, left in seen if method == "POST"]
        assert [rpc for rpc, _, _ in posts][-2:] == ["tools/list", "tools/call"]
        if mode == "legacy":
            assert posts[0][0] == "initialize"
        assert [status for _, status, _ in posts] == [200 if rpc != "notifications/initialized" else 202
                                                      for rpc, _, _ in posts]
        # One each, in order: the tool call's REST twin (POST /api/v1/agent/query) spent nothing more.
        assert [left for _, _, left in posts] == list(range(before - 1, before - 1 - len(posts), -1))
        assert int(client.get("/api/v1/plans").headers["X-RateLimit-Remaining"]) == before - len(posts) - 1
        assert all(status == 405 for method, _, status, _ in seen if method != "POST")


def test_a_key_spends_its_own_budget_on_mcp(url, app, client, make_user, key_for):
    key = key_for(make_user())
    response = post(url, TOOLS_LIST, {**key, **STATELESS})
    assert response.status_code == 200 and budget(response)["X-RateLimit-Limit"] == "1000"
    assert budget(response)["X-RateLimit-Remaining"] == "999"
    assert client.get("/api/v1/patients", headers=key).headers["X-RateLimit-Remaining"] == "998"


def test_an_anonymous_client_whose_budget_is_spent_gets_429_on_every_request(url, app, client):
    app.config["RATELIMIT_ANONYMOUS"] = "3/minute"
    for _ in range(3):
        assert client.get("/api/v1/plans").status_code == 200  # the same address as the MCP client
    for message, headers in ((INITIALIZE, {}), (DISCOVER, STATELESS), (TOOLS_LIST, STATELESS), (PING, STATELESS),
                             ({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                               "params": {"name": "open_encounter", "arguments": {"query": QUERY}}}, STATELESS)):
        refused = post(url, message, headers)
        assert refused.status_code == 429, (message["method"], refused.text)
        assert refused.json() == {"detail": "Rate limit exceeded: 3 per 1 minute."}
        assert int(refused.headers["Retry-After"]) >= 1
        assert budget(refused)["X-RateLimit-Limit"] == "3" and budget(refused)["X-RateLimit-Remaining"] == "0"
    assert requests.get(url, timeout=10).status_code == 429
    with pytest.raises(Exception):
        exchanges(url, lambda client: client.list_tools())


def test_an_invalid_credential_is_a_401_as_on_every_endpoint(url):
    for headers, detail in (({"X-API-Key": "avk_" + "x" * 40}, "Invalid or revoked API key."),
                            ({"Authorization": "Bearer a.b.c"}, "Invalid or expired token.")):
        refused = post(url, TOOLS_LIST, {**headers, **STATELESS})
        assert refused.status_code == 401 and refused.json() == {"detail": detail}
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert budget(refused)["X-RateLimit-Limit"] == "60"
