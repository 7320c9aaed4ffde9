"""MCP: the agent front door as Model Context Protocol tools, at `/mcp` on the same server.

`POST /mcp` is a Flask route (`views.py`) that hands the body it read to the SDK's
streamable HTTP transport (`transport.py`); the discovery documents (`card.py`) are an
API blueprint, documented in OpenAPI. Each tool runs its REST twin in-process
(`rest.py`), so it has the twin's callers, rules, limits and audit.
"""
from functools import partial

from avycenna.mcp.card import CARD_PATH
from avycenna.mcp.transport import SdkTransport


def link_card_from_home(response, request, g):
    """`GET /` tells agents where the MCP server card is (RFC 8288 Link header)."""
    if request.path == "/":
        response.headers["Link"] = f'<{CARD_PATH}>; rel="mcp-server-card"; type="application/json"'
    return response


def init_app(app):
    """The `/mcp` route, and the MCP server it answers with (built on the first MCP request).

    Tool calls run their REST twins through Flask's own WSGI callable, inside whatever
    middleware wraps it (ProxyFix has already put the client's address in the request)."""
    from avycenna.mcp.server import build_server
    from avycenna.mcp.views import bp

    flask_wsgi = partial(type(app).wsgi_app, app)
    app.extensions["avycenna_mcp"] = SdkTransport(lambda: build_server(app, flask_wsgi))
    app.register_blueprint(bp)
