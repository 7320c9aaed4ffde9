"""`/mcp` inside the one WSGI process: the MCP SDK's ASGI app behind a2wsgi.

waitress speaks WSGI and the SDK's streamable HTTP transport is ASGI (Starlette).
`McpMount` sends `/mcp` to the ASGI app through `a2wsgi.ASGIMiddleware` and every
other path to Flask. The ASGI side gets one event loop thread, created on the first
`/mcp` request (so the many apps of a test run cost nothing until they serve MCP),
and the SDK's session manager runs on it for the life of the process — a2wsgi has
no ASGI lifespan, so `_start` enters `session_manager.run()` itself.
"""
import asyncio
import json
import threading
from urllib.parse import urlsplit

from a2wsgi import ASGIMiddleware
from mcp.server.transport_security import TransportSecuritySettings

PATH = "/mcp"
# The SDK's check wants a fixed list of Host names, which a clinic's server behind a proxy
# cannot know; `origin_allowed` does the part that matters (credentials are never ambient:
# no cookie is accepted, so a rebound page gains nothing a plain request would not).
NO_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)
FORBIDDEN = json.dumps({"detail": "Origin not allowed: add it to MCP_ALLOWED_ORIGINS."}).encode()


def origin_allowed(environ, config):
    """The MCP spec's DNS-rebinding rule: a browser's `Origin` must be this server's or a listed one.

    Agents that are not browsers send no `Origin` and pass.
    """
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True
    own = urlsplit(config["PUBLIC_BASE_URL"] or f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', '')}")
    return origin in (f"{own.scheme}://{own.netloc}", *config["MCP_ALLOWED_ORIGINS"])


class McpMount:
    """WSGI: `/mcp` → the MCP server that `build_server()` makes, anything else → `wsgi_app`."""

    def __init__(self, wsgi_app, build_server, config):
        self.wsgi_app = wsgi_app
        self.build_server = build_server
        self.config = config
        self._asgi = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        if not origin_allowed(environ, self.config):
            start_response("403 FORBIDDEN", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(FORBIDDEN)))])
            return [FORBIDDEN]
        return self._mounted()(environ, start_response)

    def _mounted(self):
        with self._lock:
            if self._asgi is None:
                self._asgi = self._start()
        return self._asgi

    def _start(self):
        server = self.build_server()
        starlette = server.streamable_http_app(streamable_http_path=PATH, stateless_http=True,
                                               json_response=True,
                                               transport_security=NO_HOST_CHECK)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="mcp-loop", daemon=True).start()
        running = threading.Event()

        async def run_session_manager():
            async with server.session_manager.run():
                running.set()
                await asyncio.Event().wait()  # until the process ends

        self._runner = asyncio.run_coroutine_threadsafe(run_session_manager(), loop)
        running.wait(10)
        return ASGIMiddleware(starlette, loop=loop)
