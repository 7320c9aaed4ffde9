"""An MCP tool call vs its REST twin, against the same `python app.py`, in the same run.

Both sides use one keep-alive HTTP connection from the same HTTP library (httpx2, which
the `mcp` client is built on), so the difference is what MCP adds: the JSON-RPC
envelope, the SDK's validation of arguments and structured output, the ASGI bridge
into waitress, and the in-process dispatch to the twin. Two pairs: reading an
encounter's status with its encounter token, and listing patients with an API key.
REST and MCP calls alternate one by one, so a busy neighbour slows both alike.
Ratio = tool call / REST call (1 would mean MCP costs nothing); the added
milliseconds per call are printed too.
"""
import asyncio
import statistics
import tempfile
import time

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.setup import free_port, make_instance, start_server, stop_server

CALLS = 200
UNLIMITED = {"AVYCENNA_RATELIMIT_API_KEY": "1000000/minute", "AVYCENNA_RATELIMIT_ANONYMOUS": "1000000/minute"}
QUERY = "A dry cough for three weeks, worse at night, no fever, no weight loss. " * 8


async def timed(fn):
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


async def pair(base, headers, path, tool, arguments):
    """(median REST seconds, median MCP seconds) for one operation, the calls alternating."""
    async with httpx2.AsyncClient(base_url=base, headers=headers) as rest, \
            httpx2.AsyncClient(headers=headers) as http, \
            Client(streamable_http_client(base + "/mcp", http_client=http)) as agent:

        async def via_rest():
            response = await rest.get(path)
            assert response.status_code == 200, response.text

        async def via_mcp():
            result = await agent.call_tool(tool, arguments)
            assert not result.is_error, result.content

        await via_rest(), await via_mcp()  # warm-up: connections, the MCP mount's first start
        rest_times, mcp_times = [], []
        for _ in range(CALLS):
            rest_times.append(await timed(via_rest))
            mcp_times.append(await timed(via_mcp))
    return statistics.median(rest_times), statistics.median(mcp_times)


def main():
    with tempfile.TemporaryDirectory() as instance:
        _, _, key = make_instance(instance)
        port = free_port()
        proc = start_server(instance, port, UNLIMITED)
        base = f"http://127.0.0.1:{port}"
        try:
            opened = httpx2.post(base + "/api/v1/agent/query", json={"query": QUERY}).json()
            token = {"Authorization": "Bearer " + opened["encounter_token"]}
            status = asyncio.run(pair(base, token, f"/api/v1/agent/encounters/{opened['encounter_id']}",
                                      "get_encounter_status", {"encounter_id": opened["encounter_id"]}))
            patients = asyncio.run(pair(base, {"X-API-Key": key}, "/api/v1/patients", "list_patients", {}))
        finally:
            stop_server(proc)
    print(f"mcp: a tool call vs its REST twin, {CALLS} calls each over one keep-alive connection (median)")
    for name, (rest, tool) in (("encounter status (encounter token)", status),
                               ("list patients (API key)", patients)):
        print(f"  {name:36}: REST {rest * 1000:5.2f} ms  MCP {tool * 1000:5.2f} ms  "
              f"(+{(tool - rest) * 1000:4.2f} ms)  ratio (MCP / REST) {tool / rest:4.2f}x")
    return {"status": status, "patients": patients}


if __name__ == "__main__":
    main()
