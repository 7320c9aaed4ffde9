"""Discovery: the MCP server card at `/.well-known/mcp.json` and `/.well-known/mcp/server-card.json`.

The card follows the Server Card proposal (SEP-2127): what the server is, where its
streamable HTTP endpoint is, and which credentials it takes. The tool list itself
comes from the live `tools/list`, so the card cannot go stale.
"""
from flask import request
from flask.views import MethodView
from avycenna.blueprint import Blueprint
from marshmallow import Schema, fields
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from avycenna.config import VERSION
from avycenna.http import public_url
from avycenna.mcp.transport import PATH

CARD_PATH = "/.well-known/mcp.json"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json"

blp = Blueprint("mcp_card", __name__, url_prefix="/.well-known",
                description="Discovery for AI agents: the MCP server at `/mcp` (streamable HTTP).")


class RemoteSchema(Schema):
    type = fields.String(metadata={"example": "streamable-http"})
    url = fields.String(metadata={"example": "https://clinic.example/mcp"})


class ServerCardSchema(Schema):
    schema = fields.String(data_key="$schema")
    name = fields.String(metadata={"example": "example.clinic/avycenna"})
    title = fields.String()
    description = fields.String()
    version = fields.String()
    remotes = fields.List(fields.Nested(RemoteSchema))
    supported_protocol_versions = fields.List(fields.String(), data_key="supportedProtocolVersions")
    authentication = fields.Dict()
    documentation = fields.String()


def server_card():
    host = request.host.split(":")[0]
    return {
        "schema": SCHEMA,
        "name": ".".join(reversed(host.split("."))) + "/avycenna",
        "title": "AVYCENNA clinic",
        "description": "Ask a clinic's physicians a medical question for a person, follow the encounter to the "
                       "answer, manage the account's patients and read shared wearable data.",
        "version": VERSION,
        "remotes": [{"type": "streamable-http", "url": public_url(PATH)}],
        "supported_protocol_versions": [*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS],
        "authentication": {
            "required": False,
            "schemes": ["none (opens encounters)", "OAuth 2.1 (account tools; the person signs in and approves)",
                        "X-API-Key: avk_…", "Authorization: Bearer avk_…",
                        "Authorization: Bearer <JWT>", "Authorization: Bearer <encounter_token>"],
            "protected_resource_metadata": public_url("/.well-known/oauth-protected-resource/mcp"),
        },
        "documentation": public_url("/docs"),
    }


@blp.route("/mcp.json")
class ServerCard(MethodView):
    @blp.response(200, ServerCardSchema)
    def get(self):
        """The MCP server card: where the MCP endpoint is and what it accepts (no sign-in needed)."""
        return server_card()


@blp.route("/mcp/server-card.json")
class ServerCardAtDraftPath(MethodView):
    @blp.response(200, ServerCardSchema)
    def get(self):
        """The same card at the path of the Server Card draft."""
        return server_card()
