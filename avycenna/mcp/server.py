"""The MCP server of one Flask app: its tools, two resources and a prompt."""
import json
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from avycenna.config import VERSION
from avycenna.mcp import tools
from avycenna.mcp.rest import RestTwin

INSTRUCTIONS = """AVYCENNA connects you to the physicians of a clinic. To get a person medical advice, call
open_encounter with their question and context (no credentials needed). Unless it was submitted at once, give
the person the checkout_url to finish (sign in, patient, consent, ID, payment). Then poll get_encounter_status
and read_messages (pass the encounter_token you got) until a clinician's message has is_answer true; answer any
clinician question (asks_agent) with reply_to_clinician. With the account's API key on the connection
(X-API-Key), open_encounter with a ready patient_id is submitted in one call."""


def build_server(app, wsgi_app):
    """`wsgi_app`: the Flask app's own WSGI callable, which each tool calls in-process."""
    twin = RestTwin(wsgi_app)

    @asynccontextmanager
    async def lifespan(_server):
        yield twin  # tools reach it as ctx.request_context.lifespan_context

    server = MCPServer("avycenna", title="AVYCENNA clinic", version=VERSION, instructions=INSTRUCTIONS,
                       website_url=app.config.get("PUBLIC_BASE_URL") or None, lifespan=lifespan)
    for tool in tools.TOOLS:
        read_only = tool in tools.READ_ONLY
        server.add_tool(tool, annotations=ToolAnnotations(read_only_hint=read_only, destructive_hint=False,
                                                          open_world_hint=False))

    @server.resource("avycenna://consents/telehealth", name="telehealth_consent", mime_type="application/json",
                     description="The clinic's current telehealth consent text and version: what the person "
                                 "agrees to at checkout.")
    def telehealth_consent() -> str:
        from avycenna.patients.service import consent_text
        with app.app_context():
            return json.dumps(consent_text())

    @server.resource("avycenna://wearables/types", name="wearable_types", mime_type="application/json",
                     description="Wearable measurement types with canonical units, for wearable_summary.")
    def wearable_types() -> str:
        from avycenna.wearables.types import describe
        return json.dumps(describe())

    @server.prompt(name="ask_a_clinician", description="Gather what a physician needs, then open an encounter.")
    def ask_a_clinician(concern: str) -> str:
        return (f"The person's concern: {concern}\n\nBefore calling open_encounter, ask them for what a "
                "physician needs: age, sex at birth, symptoms and since when, medicines, allergies and relevant "
                "history. Write it as one query of 500 to 10,000 characters, then follow the server instructions.")

    return server
