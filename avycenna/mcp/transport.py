"""The MCP SDK's streamable HTTP transport, called from the `/mcp` view with a body already read.

waitress speaks WSGI and the SDK's transport is ASGI (Starlette). The view (`views.py`)
has taken the request through the pipeline every request goes through and read its
body with the strict reader; `SdkTransport.answer` hands that body to the SDK through
`a2wsgi.ASGIMiddleware` and returns its answer as a Flask response. The ASGI side gets
one event loop thread, created on the first `/mcp` request (so the many apps of a test
run cost nothing until they serve MCP), and the SDK's session manager runs on it for the
life of the process — a2wsgi has no ASGI lifespan, so `_start` enters
`session_manager.run()` itself.
"""
import asyncio
import io
import threading
from urllib.parse import urlsplit

from a2wsgi import ASGIMiddleware
from flask import Response
from mcp.server.transport_security import TransportSecuritySettings
from werkzeug.http import is_hop_by_hop_header
from werkzeug.test import run_wsgi_app

PATH = "/mcp"
# The SDK's check wants a fixed list of Host names, which a clinic's server behind a proxy
# cannot know; `origin_allowed` does the part that matters (credentials are never ambient:
# no cookie is accepted, so a rebound page gains nothing a plain request would not).
NO_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)
# Headers of the SDK's answer that Flask and waitress set themselves: the length of the body
# Flask sends, and the hop-by-hop ones (Connection, Keep-Alive, …) that only the server that
# owns the connection may send (waitress refuses a WSGI app's with an AssertionError).
DROPPED = ("content-length",)


def origin_allowed(environ, config):
    """The MCP spec's DNS-rebinding rule: a browser's `Origin` must be this server's or a listed one.

    Agents that are not browsers send no `Origin` and pass.
    """
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True
    own = urlsplit(config["PUBLIC_BASE_URL"] or f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', '')}")
    return origin in (f"{own.scheme}://{own.netloc}", *config["MCP_ALLOWED_ORIGINS"])


class SdkTransport:
    """The MCP server that `build_server()` makes, behind the SDK's stateless JSON transport."""

    def __init__(self, build_server):
        self.build_server = build_server
        self._wsgi = None
        self._lock = threading.Lock()

    def answer(self, environ, body):
        """The SDK's response to the request of `environ` with `body` (bytes) as its body."""
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                   "SCRIPT_NAME": "", "PATH_INFO": PATH}
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        app_iter, status, headers = run_wsgi_app(self._started(), environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        kept = [(name, value) for name, value in headers.items()
                if name.lower() not in DROPPED and not is_hop_by_hop_header(name)]
        return Response(content, status=status, headers=kept)

    def _started(self):
        with self._lock:
            if self._wsgi is None:
                self._wsgi = self._start()
        return self._wsgi

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
