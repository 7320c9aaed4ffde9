"""Bodies of /api/v1/agent."""
from marshmallow import Schema, fields, validate

from avycenna.encounters.lifecycle import STATUSES
from avycenna.encounters.schemas import EncounterSchema, QueryTextSchema
from avycenna.encounters.submission import REASONS
from avycenna.schemas import Timestamp


class AgentQuerySchema(QueryTextSchema):
    patient_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "A patient on your account (`GET /api/v1/patients`); needs an API key or JWT."})
    session_token = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=128),
                                  metadata={"description": "From an earlier response: continue that encounter."})


class AutoSubmitSchema(Schema):
    submitted = fields.Boolean()
    pending_reasons = fields.List(fields.String(validate=validate.OneOf(REASONS)),
                                  metadata={"example": ["patient_required", "subscription_required"]})


class AgentQueryResponseSchema(Schema):
    encounter_id = fields.String(metadata={"example": "enc_8fHq2LmZt9Wb"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    session_token = fields.String()
    encounter_token = fields.String(metadata={"description": "64 characters; bearer token for this encounter."})
    encounter_token_expires_at = Timestamp()
    checkout_url = fields.String(allow_none=True)
    auto_submit = fields.Nested(AutoSubmitSchema)


class AgentEncounterSchema(EncounterSchema):
    """What the agent sees: status and timing, never the patient or the clinician."""

    checkout_url = fields.String(allow_none=True)
    pending_reasons = fields.List(fields.String(), metadata={
        "description": "While awaiting checkout: what still blocks submission, in the guide's order."})
    checked_out = fields.Boolean(metadata={
        "description": "The person finished checkout; only clinic staff (ID check, payment) remain."})

    class Meta:
        fields = ("id", "status", "checkout_url", "pending_reasons", "checked_out", "summary",
                  "encounter_token_expires_at", "created_at", "updated_at", "submitted_at", "answered_at",
                  "closed_at")
