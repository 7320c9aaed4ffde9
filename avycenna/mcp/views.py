"""`POST /mcp`: the MCP endpoint, a Flask route like every other.

So it goes through the one request pipeline (`avycenna/pipeline.py`): the caller's
credential, their rate-limit budget spent once per HTTP request whatever the JSON-RPC
method (`initialize`, `tools/list`, `tools/call` …) and its `X-RateLimit-*` headers, a
429 once it is used up, the request id, and the API's JSON errors (413 for a body over
`MAX_CONTENT_LENGTH`, 415 for one that is not JSON, 400 for malformed JSON). The body is
read by the strict reader, and what the SDK parses is the value that reader returned.

`/mcp` is an OAuth protected resource (RFC 9728): a tool that acts for an account
(`ACCOUNT_TOOLS`), called with no account credential on the connection, is answered with a 401
whose `WWW-Authenticate` names the resource metadata, so an MCP client runs the authorization
flow and calls it again with a token. The anonymous front door (`open_encounter` and the
encounter tools, with the encounter token) needs none; an invalid or expired token is a 401
with the same header (`avycenna/actor.py`).

The server is stateless with JSON responses: it offers no SSE stream to `GET` and no
session to `DELETE`, so both are a 405 with `Allow: POST`, as the MCP transport spec
allows.
"""
import json

from flask import Blueprint, current_app, g, request

from avycenna import jsonbody
from avycenna.errors import fail
from avycenna.mcp.tools import ACCOUNT_TOOLS
from avycenna.mcp.transport import PATH, origin_allowed
from avycenna.oauth.common import challenge_header

bp = Blueprint("mcp", __name__)


def strict_body():
    """The request body as the strict reader parsed it, in compact JSON for the SDK (bytes)."""
    return json.dumps(jsonbody.request_body(), separators=(",", ":")).encode()


def needs_account(message):
    """Whether a JSON-RPC message calls a tool that acts for an account (an `open_encounter` for
    one of the account's patients too)."""
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    if not isinstance(params, dict):
        return False
    arguments = params.get("arguments")
    return params.get("name") in ACCOUNT_TOOLS or (
        params.get("name") == "open_encounter" and isinstance(arguments, dict) and bool(arguments.get("patient_id")))


def require_account_for_account_tools():
    """A 401 challenge (RFC 6750 / RFC 9728) for an account tool called with no account."""
    if not g.actor.is_user and needs_account(jsonbody.request_body()):
        fail(401, "This tool acts for an account: authorize (OAuth; see the WWW-Authenticate header) or send "
                  "the account's API key.", {"WWW-Authenticate": challenge_header()})


@bp.route(PATH, methods=["POST"], provide_automatic_options=False)
def endpoint():
    """One JSON-RPC message for the MCP server (streamable HTTP, stateless, JSON responses)."""
    if not origin_allowed(request.environ, current_app.config):
        fail(403, "Origin not allowed: add it to MCP_ALLOWED_ORIGINS.")
    require_account_for_account_tools()
    return current_app.extensions["avycenna_mcp"].answer(request.environ, strict_body())
