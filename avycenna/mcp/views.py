"""`POST /mcp`: the MCP endpoint, a Flask route like every other.

So it goes through the one request pipeline (`avycenna/pipeline.py`): the caller's
credential, their rate-limit budget spent once per HTTP request whatever the JSON-RPC
method (`initialize`, `tools/list`, `tools/call` …) and its `X-RateLimit-*` headers, a
429 once it is used up, the request id, and the API's JSON errors (413 for a body over
`MAX_CONTENT_LENGTH`, 415 for one that is not JSON, 400 for malformed JSON). The body is
read by the strict reader, and what the SDK parses is the value that reader returned.

The server is stateless with JSON responses: it offers no SSE stream to `GET` and no
session to `DELETE`, so both are a 405 with `Allow: POST`, as the MCP transport spec
allows.
"""
import json

from flask import Blueprint, current_app, request

from avycenna import jsonbody
from avycenna.errors import fail
from avycenna.mcp.transport import PATH, origin_allowed

bp = Blueprint("mcp", __name__)


def strict_body():
    """The request body as the strict reader parsed it, in compact JSON for the SDK (bytes)."""
    return json.dumps(jsonbody.request_body(), separators=(",", ":")).encode()


@bp.route(PATH, methods=["POST"], provide_automatic_options=False)
def endpoint():
    """One JSON-RPC message for the MCP server (streamable HTTP, stateless, JSON responses)."""
    if not origin_allowed(request.environ, current_app.config):
        fail(403, "Origin not allowed: add it to MCP_ALLOWED_ORIGINS.")
    return current_app.extensions["avycenna_mcp"].answer(request.environ, strict_body())
