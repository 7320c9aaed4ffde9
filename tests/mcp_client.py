"""The official `mcp` client against a live server's `/mcp` (streamable HTTP), from sync tests."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def _with_client(url, headers, steps):
    async with httpx2.AsyncClient(headers=headers or {}) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            return await steps(client)


def run(coroutine):
    """`asyncio.run` in a thread of its own: Playwright's sync API keeps an event loop running
    in the main thread once a browser test has run, and `asyncio.run` refuses to nest in it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def session(url, steps, headers=None):
    """Run `await steps(client)` on one connection; returns what it returns."""
    return run(_with_client(url, headers, steps))


def call(url, name, arguments=None, headers=None):
    """One tool call on a fresh connection, as a stateless agent makes it → CallToolResult."""
    return session(url, lambda client: client.call_tool(name, arguments or {}), headers)


def ok(result):
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error_text(result):
    assert result.is_error and result.structured_content is None
    return result.content[0].text
