"""Bodies and responses of /api/v1/grants."""
from marshmallow import Schema, fields, validate

from avycenna.grants.models import SCOPES, STATUSES
from avycenna.schemas import PageArgs, Timestamp, page_schema


class NewGrantSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254), metadata={"example": "alex@example.com"})
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1, max=len(SCOPES)),
                         metadata={"example": ["profile", "wearables"]})
    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    expires_at = Timestamp(load_default=None, allow_none=True,
                           metadata={"description": "When access ends; open-ended if omitted."})


class AcceptSchema(Schema):
    patient_id = fields.UUID(required=True)


class GrantListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class PersonSchema(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String()


class PatientSummarySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    date_of_birth = fields.Date()
    relationship = fields.String()


class GrantSchema(Schema):
    id = fields.String(metadata={"example": "grt_4Fq9ZtLmP2aB"})
    status = fields.String(metadata={"description": "pending, active, declined, revoked or expired"})
    email = fields.String(metadata={"description": "The account holder asked."})
    scopes = fields.List(fields.String())
    message = fields.String(allow_none=True)
    clinician = fields.Nested(PersonSchema)
    patient_id = fields.UUID(allow_none=True, metadata={
        "description": "The patient the grant is for: shown to the holder once accepted, and to the "
                       "clinician while the grant is active."})
    patient = fields.Nested(PatientSummarySchema, allow_none=True, metadata={
        "description": "Who the patient is: shown to the holder, and to the clinician only while an active "
                       "grant of theirs includes the `profile` scope (or while they hold an encounter of "
                       "this patient); every such read is in the patient's access log."})
    expires_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    responded_at = Timestamp(allow_none=True)
    revoked_at = Timestamp(allow_none=True)
    revoked_by = fields.String(allow_none=True)


GrantPageSchema = page_schema(GrantSchema, "GrantPage")
