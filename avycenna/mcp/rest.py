"""A tool call is its REST twin's request, dispatched in-process through the Flask app.

The MCP request's credential headers and client address become the headers and
address of an ordinary `/api/v1/…` request, so the twin's whole pipeline runs
unchanged: credential resolution, rate limits (per credential and the agent-query
budget), body validation, the service rule, the audit record and the error shape.
There is no second copy of any rule here — only the translation of a non-2xx
answer into a tool error the agent can read. The one exception is the per-credential
budget: the `/mcp` request that carries the tool call has spent it already, so the twin
is marked `ALREADY_SPENT` and does not spend it again (its named budgets still count).
"""
import json

from mcp.server.mcpserver.exceptions import ToolError
from werkzeug.test import EnvironBuilder, run_wsgi_app

from avycenna.oauth.common import VIA_MCP
from avycenna.ratelimit import ALREADY_SPENT

# Headers a tool call carries over from the MCP HTTP request (the credential and tracing).
FORWARDED = ("Authorization", "X-API-Key", "X-Request-ID", "User-Agent")


class RestTwin:
    """Calls the Flask app's own WSGI callable (inside ProxyFix, outside the `/mcp` mount)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def call(self, http, method, path, *, query=None, body=None, encounter_token=None, idempotency_key=None):
        """`http`: the MCP request (Starlette). Returns the JSON body of a 2xx, else raises ToolError."""
        headers = {name: http.headers[name] for name in FORWARDED if name in http.headers}
        if encounter_token:  # the token an earlier tool result gave: it is this call's credential
            headers.pop("X-API-Key", None)
            headers["Authorization"] = "Bearer " + encounter_token
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        client = http.client.host if http.client else "unknown"
        builder = EnvironBuilder(path=path, method=method, headers=headers, json=body,
                                 query_string={k: v for k, v in (query or {}).items() if v is not None},
                                 base_url=f"{http.url.scheme}://{http.url.netloc}",
                                 environ_base={"REMOTE_ADDR": client, ALREADY_SPENT: True, VIA_MCP: True})
        try:
            app_iter, status, response_headers = run_wsgi_app(self.wsgi_app, builder.get_environ(), buffered=True)
            payload = b"".join(app_iter)
        finally:
            builder.close()
        code = int(status.split()[0])
        data = json.loads(payload) if payload else {}
        if code >= 400:
            raise ToolError(error_text(code, data, response_headers))
        return data


def error_text(code, data, headers):
    """`HTTP 401: Invalid or revoked API key.` — the REST error, in one line for a model."""
    detail = data.get("detail", "")
    if isinstance(detail, list):  # 422: [{"loc", "msg"}] → "body.query: Length must be …"
        detail = "; ".join(".".join(str(p) for p in item.get("loc", [])[1:]) + ": " + item.get("msg", "")
                           for item in detail)
    text = f"HTTP {code}: {detail}"
    if code == 429 and headers.get("Retry-After"):
        text += f" Retry after {headers['Retry-After']} seconds."
    return text
