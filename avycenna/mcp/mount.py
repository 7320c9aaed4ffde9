"""`/mcp` inside the one WSGI process: the MCP SDK's ASGI app behind a2wsgi.

waitress speaks WSGI and the SDK's streamable HTTP transport is ASGI (Starlette).
`McpMount` sends `/mcp` to the ASGI app through `a2wsgi.ASGIMiddleware` and every
other path to Flask. The ASGI side gets one event loop thread, created on the first
`/mcp` request (so the many apps of a test run cost nothing until they serve MCP),
and the SDK's session manager runs on it for the life of the process — a2wsgi has
no ASGI lifespan, so `_start` enters `session_manager.run()` itself.
"""
import asyncio
import threading

from a2wsgi import ASGIMiddleware

PATH = "/mcp"


class McpMount:
    """WSGI: `/mcp` → the MCP server of `flask_app`, anything else → `wsgi_app`."""

    def __init__(self, wsgi_app, build_server):
        self.wsgi_app = wsgi_app
        self.build_server = build_server
        self._asgi = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").rstrip("/") != PATH:
            return self.wsgi_app(environ, start_response)
        return self._mounted()(environ, start_response)

    def _mounted(self):
        with self._lock:
            if self._asgi is None:
                self._asgi = self._start()
        return self._asgi

    def _start(self):
        server = self.build_server()
        starlette = server.streamable_http_app(streamable_http_path=PATH, stateless_http=True,
                                               json_response=True, host="0.0.0.0")
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
