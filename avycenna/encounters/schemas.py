"""Request and response bodies of encounters, queries and messages."""
from marshmallow import Schema, fields, pre_dump, validate

from avycenna.encounters import service
from avycenna.encounters.lifecycle import STATUSES
from avycenna.schemas import Boolean, ConfigLength, PageArgs, Pattern, Timestamp, page_schema, visible_pattern


class QueryTextSchema(Schema):
    query = fields.String(required=True, validate=[
        ConfigLength("AGENT_QUERY_MIN_LENGTH", "AGENT_QUERY_MAX_LENGTH"),
        Pattern(visible_pattern, "Cannot be blank.")], metadata={
        "description": "The question with its context (the lengths are the server's "
                       "AGENT_QUERY_MIN_LENGTH and AGENT_QUERY_MAX_LENGTH), not blank."})


class QuerySchema(Schema):
    id = fields.String(metadata={"example": "qry_2Lk9PqRt4mXa"})
    text = fields.String()
    source = fields.String(metadata={"enum": ["agent", "follow_up"]})
    created_at = Timestamp()


class EncounterSchema(Schema):
    id = fields.String(metadata={"example": "enc_8fHq2LmZt9Wb"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    patient_id = fields.UUID(allow_none=True)
    clinician_id = fields.String(allow_none=True)
    payment = fields.String(allow_none=True, metadata={"enum": ["subscription", "invoice"]})
    latest_query = fields.Function(lambda e: service.latest_query(e), metadata={
        "type": "string", "description": "What the clinician reads: the most recent query."})
    summary = fields.String(allow_none=True)
    encounter_token_expires_at = Timestamp(attribute="token_expires_at")
    created_at = Timestamp()
    updated_at = Timestamp()
    submitted_at = Timestamp(allow_none=True)
    taken_at = Timestamp(allow_none=True)
    answered_at = Timestamp(allow_none=True)
    closed_at = Timestamp(allow_none=True)


class EncounterDetailSchema(EncounterSchema):
    query_history = fields.Nested(QuerySchema, many=True, data_key="queries",
                                  metadata={"description": "Every query, oldest first."})

    @pre_dump
    def load_history(self, encounter, **kwargs):
        encounter.query_history = service.queries(encounter)
        return encounter


EncounterPage = page_schema(EncounterSchema, "EncounterPage")


class QueueEncounterSchema(EncounterSchema):
    """A queue entry: the encounter and what staff may see of its patient before taking it."""
    patient_age = fields.Integer(allow_none=True, metadata={"description": "The patient's age in whole years."})
    patient_sex_at_birth = fields.String(allow_none=True, metadata={
        "description": "female, male, intersex or unknown; null when not given."})

    @pre_dump
    def load_patient_facts(self, encounter, **kwargs):
        from avycenna.actor import current_user
        from avycenna.encounters.patient_view import queue_facts

        facts = queue_facts(current_user(), encounter)
        encounter.patient_age, encounter.patient_sex_at_birth = facts["age"], facts["sex_at_birth"]
        return encounter


QueuePage = page_schema(QueueEncounterSchema, "QueuePage")


class StatusListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class EncounterListArgs(StatusListArgs):
    patient_id = fields.UUID()


class MessageSchema(Schema):
    id = fields.String(metadata={"example": "msg_Vb7Nq2Xs9KpL"})
    encounter_id = fields.String()
    author_role = fields.String(metadata={"enum": ["member", "clinician", "agent"]})
    body = fields.String()
    asks_agent = fields.Boolean(metadata={"description": "A clinician's question for the agent."})
    is_answer = fields.Boolean(metadata={"description": "The clinician's answer."})
    reply_to = fields.String(allow_none=True)
    created_at = Timestamp()


MessagePage = page_schema(MessageSchema, "MessagePage")


class MessageListArgs(PageArgs):
    after = fields.String(load_default=None, validate=validate.Length(max=32), metadata={
        "description": "A message id: only messages after it (poll with the last id you saw)."})


class NewMessageSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    asks_agent = Boolean(load_default=False)


class AgentMessageSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    reply_to = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                             metadata={"description": "The clinician's question (message id) this answers."})


class AnswerSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class CloseSchema(Schema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000))
