"""Discovery: the MCP server card at `/.well-known/mcp.json` and `/.well-known/mcp/server-card.json`.

The card follows the Server Card proposal (SEP-2127): what the server is, where its
streamable HTTP endpoint is, and which credentials it takes. The tool list itself
comes from the live `tools/list`, so the card cannot go stale.
"""
from flask import Blueprint, jsonify, request
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from avycenna.config import VERSION
from avycenna.http import public_url
from avycenna.mcp.mount import PATH

blp = Blueprint("mcp_card", __name__)

CARD_PATH = "/.well-known/mcp.json"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json"


def server_card():
    host = request.host.split(":")[0]
    return {
        "$schema": SCHEMA,
        "name": ".".join(reversed(host.split("."))) + "/avycenna",
        "title": "AVYCENNA clinic",
        "description": "Ask a clinic's physicians a medical question for a person, follow the encounter to the "
                       "answer, manage the account's patients and read shared wearable data.",
        "version": VERSION,
        "remotes": [{"type": "streamable-http", "url": public_url(PATH)}],
        "supportedProtocolVersions": [*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS],
        "authentication": {
            "required": False,
            "schemes": ["none (opens encounters)", "X-API-Key: avk_…", "Authorization: Bearer avk_…",
                        "Authorization: Bearer <JWT>", "Authorization: Bearer <encounter_token>"],
        },
        "documentation": public_url("/docs"),
    }


@blp.get(CARD_PATH)
@blp.get("/.well-known/mcp/server-card.json")
def card():
    """The MCP server card (no sign-in, no rate limit)."""
    return jsonify(server_card())
