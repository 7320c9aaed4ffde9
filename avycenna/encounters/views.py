"""/api/v1/encounters: your encounters, follow-ups and messages; the clinicians' queue."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.encounters.limits import agent_query_limit
from avycenna.encounters.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_HEADER
from avycenna.actor import auth_required, current_user
from avycenna.auth.models import STAFF_ROLES
from avycenna.encounters import service
from avycenna.encounters.schemas import (AnswerSchema, CloseSchema, EncounterDetailSchema, EncounterListArgs,
                                         EncounterPage, MessageListArgs, MessagePage, MessageSchema,
                                         NewMessageSchema, QueryTextSchema, QueuePage, StatusListArgs)
from avycenna.encounters.access_request import request_for_encounter
from avycenna.grants.schemas import GrantSchema
from avycenna.patients.schemas import PatientSchema
from avycenna.schemas import PageArgs

blp = Blueprint("encounters", __name__, url_prefix="/api/v1/encounters",
                description="Encounters: yours as an account holder; the queue and answers for clinicians.")


@blp.route("")
class Encounters(MethodView):
    @auth_required()
    @blp.arguments(EncounterListArgs, location="query")
    @blp.response(200, EncounterPage)
    def get(self, args):
        """List your encounters, newest first (filter by `status` and `patient_id`)."""
        return service.list_own(current_user(), args["limit"], args["cursor"], args.get("status"),
                                args.get("patient_id"))


@blp.route("/queue")
class Queue(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, QueuePage)
    def get(self, args):
        """Clinicians: submitted encounters waiting to be taken, oldest first.

        Each entry has the latest query, the patient's age and sex at birth (never a name or a
        date of birth before you take it) and `submitted_at`, from which it has waited.
        """
        return service.queue(args["limit"], args["cursor"])


@blp.route("/assigned")
class Assigned(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.arguments(StatusListArgs, location="query")
    @blp.response(200, EncounterPage)
    def get(self, args):
        """Clinicians: the encounters you took, most recently taken first (filter by `status`)."""
        return service.assigned(current_user(), args["limit"], args["cursor"], args.get("status"))


@blp.route("/<string:encounter_id>")
class EncounterItem(MethodView):
    @auth_required()
    @blp.response(200, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, encounter_id):
        """Read an encounter with all its queries (yours, or one you may take or took)."""
        return service.read_encounter(current_user(), encounter_id)


@blp.route("/<string:encounter_id>/queries")
class FollowUps(MethodView):
    decorators = [agent_query_limit]

    @auth_required()
    @blp.arguments(QueryTextSchema)
    @blp.response(201, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, body, encounter_id):
        """Add a follow-up query (counts against the agent query limits)."""
        return service.follow_up(current_user(), encounter_id, body["query"])


@blp.route("/<string:encounter_id>/cancel")
class Cancel(MethodView):
    @auth_required()
    @blp.response(200, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, encounter_id):
        """Cancel your encounter before a clinician takes it."""
        return service.cancel(current_user(), encounter_id)


@blp.route("/<string:encounter_id>/take")
class Take(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(200, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, encounter_id):
        """Clinicians: take a submitted encounter (only one clinician can)."""
        return service.take(current_user(), encounter_id)


@blp.route("/<string:encounter_id>/access-request")
class EncounterAccessRequest(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, encounter_id):
        """Clinicians: ask the account holder of an encounter you took for its patient's data.

        One click: a grant request (`profile`, `wearables`) to the holder's e-mail, who is mailed
        a link to their grants page. A request still pending, or an active grant on this
        patient, is returned instead of asking again.
        """
        return request_for_encounter(current_user(), encounter_id)


@blp.route("/<string:encounter_id>/patient")
class EncounterPatient(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, encounter_id):
        """Clinicians: the patient of an encounter you took."""
        return service.patient_of(current_user(), encounter_id)


@blp.route("/<string:encounter_id>/messages")
class Messages(MethodView):
    @auth_required()
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessagePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, encounter_id):
        """Messages of your encounter, or of one you took, oldest first."""
        encounter = service.member_or_clinician_encounter(current_user(), encounter_id)
        return service.list_messages(encounter, args["limit"], args["cursor"], args["after"])

    @auth_required()
    @blp.arguments(NewMessageSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, encounter_id):
        """Post a message; a clinician's `asks_agent: true` asks the agent a question."""
        return service.post_message(current_user(), encounter_id, body["body"], body["asks_agent"])


@blp.route("/<string:encounter_id>/answer")
class Answer(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.arguments(AnswerSchema)
    @blp.response(200, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, encounter_id):
        """Clinicians: answer an encounter you took."""
        return service.answer(current_user(), encounter_id, body["body"])


@blp.route("/<string:encounter_id>/close")
class Close(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.arguments(CloseSchema)
    @blp.response(200, EncounterDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, encounter_id):
        """Clinicians: close an encounter you took, with a summary."""
        return service.close(current_user(), encounter_id, body["summary"])
