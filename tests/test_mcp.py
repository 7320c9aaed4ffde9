"""The MCP server at /mcp, driven by the official `mcp` client against a live waitress server:
the same callers, rules, limits and audit as the REST twins of its tools."""
import pytest

from tests.agent_helpers import QUERY, ask, ready_patient, subscribe
from tests.factories import audit_events, make_patient
from tests.mcp_client import call, error_text, ok, run, session

TOOLS = {"open_encounter", "get_encounter_status", "read_messages", "reply_to_clinician", "list_patients",
         "create_patient", "list_encounters", "get_subscription", "wearable_summary"}


@pytest.fixture
def people(make_user, token_for, key_for):
    member, clinician, admin = make_user(), make_user(role="clinician"), make_user(role="admin")
    return {"user": member, "member": token_for(member), "member_key": key_for(member),
            "clinician": token_for(clinician), "admin": token_for(admin)}


@pytest.fixture
def url(live_server):
    return live_server.url


def test_tools_resources_and_prompt_are_listed_with_schemas(url):
    async def steps(client):
        return (await client.list_tools(), await client.list_resources(),
                await client.read_resource("avycenna://wearables/types"), await client.list_prompts())
    tools, resources, types, prompts = session(url, steps)
    assert {tool.name for tool in tools.tools} == TOOLS
    for tool in tools.tools:
        assert len(tool.description) > 60 and tool.input_schema["type"] == "object"
        assert tool.output_schema["type"] == "object" and tool.output_schema["properties"]
    opened = next(tool for tool in tools.tools if tool.name == "open_encounter")
    assert opened.input_schema["required"] == ["query"]
    assert "pending_reasons" in str(opened.output_schema) and "checkout_url" in opened.output_schema["properties"]
    assert {str(r.uri) for r in resources.resources} == {"avycenna://consents/telehealth",
                                                         "avycenna://wearables/types"}
    assert '"heart_rate"' in types.contents[0].text
    assert [p.name for p in prompts.prompts] == ["ask_a_clinician"]


def test_anonymous_agent_follows_checkout_to_the_clinicians_answer(url, client, people):
    opened = ok(call(url, "open_encounter", {"query": QUERY}))
    assert opened["status"] == "awaiting_checkout"
    assert opened["auto_submit"] == {"submitted": False,
                                     "pending_reasons": ["patient_required", "subscription_required"]}
    assert opened["checkout_url"] == url + "/checkout/" + opened["encounter_token"]
    encounter_id, token = opened["encounter_id"], opened["encounter_token"]
    agent = {"encounter_id": encounter_id, "encounter_token": token}
    status = ok(call(url, "get_encounter_status", agent))
    assert status["pending_reasons"] == ["patient_required", "subscription_required"]

    pid = ready_patient(client, people["member"], people["admin"])  # the person's checkout
    r = client.post("/api/v1/checkout", json={"encounter_token": token, "patient_id": pid},
                    headers=people["member"])
    invoice = r.get_json()["invoice"]
    client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid", headers=people["admin"])
    assert ok(call(url, "get_encounter_status", agent))["status"] == "submitted"

    doc = people["clinician"]
    client.post(f"/api/v1/encounters/{encounter_id}/take", headers=doc)
    question = client.post(f"/api/v1/encounters/{encounter_id}/messages",
                           json={"body": "Any weight loss?", "asks_agent": True}, headers=doc).get_json()
    polled = ok(call(url, "read_messages", agent))["data"]
    assert [(m["id"], m["asks_agent"]) for m in polled] == [(question["id"], True)]
    reply = ok(call(url, "reply_to_clinician", {**agent, "body": "No weight loss.", "reply_to": question["id"]}))
    assert reply["author_role"] == "agent" and reply["reply_to"] == question["id"]
    client.post(f"/api/v1/encounters/{encounter_id}/answer", json={"body": "Likely post-viral cough."}, headers=doc)

    newer = ok(call(url, "read_messages", {**agent, "after": reply["id"]}))["data"]
    assert [(m["author_role"], m["is_answer"], m["body"]) for m in newer] == [
        ("clinician", True, "Likely post-viral cough.")]
    # The token also works as the connection's credential, like the REST header.
    by_header = ok(call(url, "get_encounter_status", {"encounter_id": encounter_id},
                        headers={"Authorization": "Bearer " + token}))
    assert by_header["status"] == "answered" and by_header["checkout_url"] is None


def test_subscriber_with_an_api_key_submits_in_one_call(url, client, people):
    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    key = people["member_key"]
    patients = ok(call(url, "list_patients", headers=key))["data"]
    assert [(p["id"], p["consent_current"], p["id_verification_status"]) for p in patients] == [
        (pid, True, "verified")]
    assert ok(call(url, "list_patients", headers=people["member"]))["data"] == patients  # a JWT, the same
    opened = ok(call(url, "open_encounter", {"query": QUERY, "patient_id": pid}, headers=key))
    assert opened["status"] == "submitted" and opened["checkout_url"] is None
    assert opened["auto_submit"] == {"submitted": True, "pending_reasons": []}
    listed = ok(call(url, "list_encounters", headers=key))["data"]
    assert [(e["id"], e["patient_id"]) for e in listed] == [(opened["encounter_id"], pid)]
    assert ok(call(url, "get_subscription", headers=key))["encounters_used"] == 1
    # The owner's key drives the encounter's chat without its token, as on REST.
    status = ok(call(url, "get_encounter_status", {"encounter_id": opened["encounter_id"]}, headers=key))
    assert status["status"] == "submitted"

    child = ok(call(url, "create_patient", {"name": "Kim Example", "date_of_birth": "2015-06-01",
                                            "relationship": "child"}, headers=key))
    assert child["consent_current"] is False
    rest = client.get("/api/v1/patients", headers=people["member"]).get_json()["data"]
    assert {p["id"] for p in rest} == {pid, child["id"]}


def test_missing_or_wrong_credentials_are_errors_the_agent_can_read(url, client, people):
    """A tool whose twin needs what the connection lacks says so. (A present-but-invalid credential on
    the connection is refused by `/mcp` itself with a 401, as on every endpoint: test_mcp_http.py; an
    account tool with no credential at all is a 401 OAuth challenge: test_oauth.py.)"""
    import requests

    r = requests.post(url + "/mcp", timeout=30, headers={"Accept": "application/json, text/event-stream"}, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_subscription", "arguments": {}}})
    assert r.status_code == 401 and "resource_metadata=" in r.headers["WWW-Authenticate"]
    opened = ask(client).get_json()
    wrong_token = {"encounter_id": opened["encounter_id"], "encounter_token": "f" * 64}
    assert "HTTP 401: Invalid encounter token." in error_text(call(url, "read_messages", wrong_token))
    # A valid credential for something the caller may not see is a 404, never a leak.
    other = {"encounter_id": "enc_notYours123", "encounter_token": opened["encounter_token"]}
    assert "HTTP 404: Encounter not found." in error_text(call(url, "get_encounter_status", other))
    assert "HTTP 422: query: Length must be between 500 and 10000 characters." in error_text(
        call(url, "open_encounter", {"query": "too short"}))
    # Ids are one path segment of the twin's URL: anything else never reaches it.
    sneaky = {"encounter_id": opened["encounter_id"] + "/messages", "encounter_token": opened["encounter_token"]}
    assert "encounter_id" in error_text(call(url, "get_encounter_status", sneaky))


def test_the_agent_query_budget_is_shared_with_rest(url, client):
    for _ in range(3):
        assert ask(client).status_code == 200  # same client address (127.0.0.1) as the MCP caller
    for _ in range(2):
        ok(call(url, "open_encounter", {"query": QUERY}))
    text = error_text(call(url, "open_encounter", {"query": QUERY}))
    assert "HTTP 429" in text and "5 per 1 hour" in text and "Retry after" in text
    assert ask(client).status_code == 429


def test_the_per_key_budget_counts_mcp_requests(url, app, client, people):
    """Each HTTP request to /mcp spends one (a call on a fresh connection: server/discover, tools/call,
    and tools/list for the client to check the result's schema); the tool's REST twin spends nothing more."""
    import requests

    app.config["RATELIMIT_API_KEY"] = "7/minute"
    key = people["member_key"]
    for _ in range(2):
        ok(call(url, "list_patients", headers=key))
    assert client.get("/api/v1/patients", headers=key).headers["X-RateLimit-Remaining"] == "0"
    refused = requests.post(url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10,
                            headers={**key, "Accept": "application/json, text/event-stream"})
    assert refused.status_code == 429 and refused.json()["detail"] == "Rate limit exceeded: 7 per 1 minute."


def test_tool_calls_write_the_same_audit_records(url, app, client, people):
    opened = ok(call(url, "open_encounter", {"query": QUERY}))
    call(url, "get_encounter_status", {"encounter_id": opened["encounter_id"],
                                       "encounter_token": opened["encounter_token"]})
    [query] = audit_events(app, action="encounter.query", target_id=opened["encounter_id"])
    assert query.actor_type == "anonymous" and query.ip_hash
    [read] = audit_events(app, action="encounter.read", target_id=opened["encounter_id"])
    assert read.actor_type == "encounter" and read.actor_encounter_id == opened["encounter_id"]
    via_rest = client.get(f"/api/v1/agent/encounters/{opened['encounter_id']}",
                          headers={"Authorization": "Bearer " + opened["encounter_token"]})
    assert via_rest.status_code == 200
    _, rest_read = audit_events(app, action="encounter.read", target_id=opened["encounter_id"])
    assert (rest_read.actor_type, rest_read.ip_hash) == (read.actor_type, read.ip_hash)


def test_wearable_summary_for_the_owner_and_nobody_else(url, app, client, make_user, key_for, people):
    patient = make_patient(app, people["user"])
    sample = {"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 72, "unit": "count/min"}
    client.post(f"/api/v1/patients/{patient.id}/wearables", json={"source": "watch", "samples": [sample]},
                headers=people["member"])
    args = {"patient_id": str(patient.id), "type": "heart_rate", "start": "2026-11-20T00:00:00Z",
            "end": "2026-11-21T00:00:00Z", "bucket": "day"}
    summary = ok(call(url, "wearable_summary", args, headers=people["member_key"]))
    assert [(b["start"], b["count"], b["mean"]) for b in summary["data"]] == [("2026-11-20T00:00:00Z", 1, 72)]
    stranger = key_for(make_user(role="clinician"))
    assert "HTTP 404: Grant not found or access denied." in error_text(
        call(url, "wearable_summary", args, headers=stranger))


def test_server_card_is_linked_from_home_and_the_docs(url, client):
    card = client.get("/.well-known/mcp.json")
    assert card.status_code == 200
    assert card.get_json()["remotes"] == [{"type": "streamable-http", "url": url + "/mcp"}]
    assert client.get("/.well-known/mcp/server-card.json").get_json() == card.get_json()
    assert "/.well-known/mcp.json" in client.get("/").headers["Link"]
    assert "/.well-known/mcp.json" in client.get("/openapi.json").get_json()["info"]["description"]


def test_a_second_process_answers_what_the_first_opened(url, app_config, client):
    """No per-process MCP state: behind a load balancer any process serves the next call."""
    from avycenna import create_app
    from tests.web_fixtures import LiveServer

    other = LiveServer(create_app(app_config)).start()
    try:
        opened = ok(call(url, "open_encounter", {"query": QUERY}))
        status = ok(call(other.url, "get_encounter_status", {"encounter_id": opened["encounter_id"],
                                                             "encounter_token": opened["encounter_token"]}))
        assert status["status"] == "awaiting_checkout"
    finally:
        other.stop()


def test_a_browser_page_from_another_origin_is_refused(url, app):
    """The MCP spec's DNS-rebinding rule; agents that are not browsers send no Origin."""
    import requests

    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    evil = requests.post(url + "/mcp", json=ping, headers={**headers, "Origin": "http://evil.example"}, timeout=10)
    assert evil.status_code == 403 and "MCP_ALLOWED_ORIGINS" in evil.json()["detail"]
    assert requests.post(url + "/mcp", json=ping, headers={**headers, "Origin": url}, timeout=10).status_code == 200
    app.config["MCP_ALLOWED_ORIGINS"] = ["http://evil.example"]
    assert requests.post(url + "/mcp", json=ping, headers={**headers, "Origin": "http://evil.example"},
                         timeout=10).status_code == 200


def test_the_docs_client_example_works(url, key_for, make_user):
    """The docs' Python client example, run as written against the live server (its key and URL swapped in)."""
    import contextlib
    import io
    import os
    import re
    import textwrap

    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "agents-and-mcp.md")) as fh:
        page = fh.read()
    code = re.search(r"```python\n# the official Python client.*?\n(.*?)```", page, re.S).group(1)
    code = (code.replace("avk_…", key_for(make_user())["X-API-Key"]).replace("http://127.0.0.1:8000", url)
            .replace("…500+ characters…", QUERY[:600]))
    namespace = {}
    exec("async def example():\n" + textwrap.indent(code, "    "), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run(namespace["example"]())
    assert printed.getvalue().strip() == "{'submitted': False, 'pending_reasons': ['patient_required', " \
                                         "'subscription_required']}"


def test_a_retried_open_encounter_with_its_idempotency_key_returns_the_first(url, client):
    first = ok(call(url, "open_encounter", {"query": QUERY, "idempotency_key": "retry-1"}))
    again = ok(call(url, "open_encounter", {"query": QUERY, "idempotency_key": "retry-1"}))
    assert again["encounter_id"] == first["encounter_id"]
    assert again["encounter_token"] == first["encounter_token"]


def test_clients_of_the_2025_handshake_revisions_are_served_statelessly(url):
    """Older clients (initialize handshake, protocol 2025-11-25) get no session to lose."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    session_ids = []

    async def note_session(response):
        session_ids.append(response.headers.get("mcp-session-id"))

    async def legacy():
        async with httpx2.AsyncClient(event_hooks={"response": [note_session]}) as http, \
                Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy") as client:
            return await client.list_tools(), await client.call_tool("open_encounter", {"query": QUERY})
    listed, opened = run(legacy())
    assert {tool.name for tool in listed.tools} == TOOLS
    assert ok(opened)["status"] == "awaiting_checkout"
    assert session_ids and set(session_ids) == {None}
