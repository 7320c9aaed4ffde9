"""MCP: the agent front door as Model Context Protocol tools, at `/mcp` on the same server.

`init_app` mounts the streamable HTTP endpoint (see `mount.py`) in front of the Flask
app; the discovery documents (`card.py`) are an API blueprint, documented in OpenAPI.
Each tool runs its REST twin in-process (`rest.py`), so it has the twin's callers,
rules, limits and audit.
"""

from avycenna.mcp.card import CARD_PATH
from avycenna.mcp.mount import McpMount


def link_card_from_home(response, request, g):
    """`GET /` tells agents where the MCP server card is (RFC 8288 Link header)."""
    if request.path == "/":
        response.headers["Link"] = f'<{CARD_PATH}>; rel="mcp-server-card"; type="application/json"'
    return response


def init_app(app):
    """Call before ProxyFix wraps `app.wsgi_app`, so `/mcp` sees the client's real address too."""
    from avycenna.mcp.server import build_server

    flask_wsgi = app.wsgi_app
    app.wsgi_app = McpMount(flask_wsgi, lambda: build_server(app, flask_wsgi), app.config)
