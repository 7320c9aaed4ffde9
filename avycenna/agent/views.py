"""/api/v1/agent: the front door any AI agent can use, and its chat with the clinician."""
from functools import wraps

from flask import g
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.agent import service
from avycenna.encounters.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_HEADER
from avycenna.encounters.limits import agent_query_limit
from avycenna.agent.schemas import AgentEncounterSchema, AgentQueryResponseSchema, AgentQuerySchema
from avycenna.encounters import service as encounters
from avycenna.encounters.schemas import AgentMessageSchema, MessageListArgs, MessagePage, MessageSchema

blp = Blueprint("agent", __name__, url_prefix="/api/v1/agent",
                description="Open a medical encounter with no credentials; poll the clinician's reply.")

OPTIONAL_ACCOUNT = [{}, {"apiKeyAuth": []}, {"bearerAuth": []}]
AGENT_AUTH = [{"encounterToken": []}, {"apiKeyAuth": []}, {"bearerAuth": []}]


def agent_access(view):
    """Check the encounter token (or the owner's credential) before the body is read:
    a wrong credential is a 401 whatever the body says. The view gets `encounter`."""
    @wraps(view)
    def wrapper(*args, encounter_id, **kwargs):
        return view(*args, encounter=service.agent_encounter(encounter_id), **kwargs)
    return wrapper


@blp.route("/query")
class AgentQuery(MethodView):
    decorators = [agent_query_limit]

    @blp.arguments(AgentQuerySchema)
    @blp.response(200, AgentQueryResponseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(security=OPTIONAL_ACCOUNT, parameters=[IDEMPOTENCY_HEADER])
    def post(self, body):
        """Open an encounter (or continue one with `session_token`); submit it when nothing is pending."""
        return service.handle_query(g.actor.user, body)


@blp.route("/encounters/<string:encounter_id>")
class AgentEncounter(MethodView):
    @blp.response(200, AgentEncounterSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=AGENT_AUTH)
    def get(self, encounter_id):
        """The encounter's status, as its agent sees it."""
        return service.read_for_agent(encounter_id)


@blp.route("/encounters/<string:encounter_id>/messages")
class AgentMessages(MethodView):
    @agent_access
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessagePage)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=AGENT_AUTH)
    def get(self, args, encounter):
        """Poll the encounter's messages (`after` = the last message id you saw)."""
        return encounters.list_messages(encounter, args["limit"], args["cursor"], args["after"])

    @agent_access
    @blp.arguments(AgentMessageSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(security=AGENT_AUTH)
    def post(self, body, encounter):
        """Post the agent's message, e.g. its answer to the clinician's question (`reply_to`)."""
        return encounters.post_agent_message(encounter, body["body"], body["reply_to"])
