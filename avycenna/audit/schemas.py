"""Responses and filters of the access log and the admin audit query."""
import json

from marshmallow import Schema, fields, validate

from avycenna.schemas import PageArgs, Timestamp, page_schema


class AccessLogEntrySchema(Schema):
    id = fields.String(metadata={"example": "evt_4Fq9ZtLmP2aB"})
    at = Timestamp()
    action = fields.String(metadata={"example": "wearables.read"})
    outcome = fields.String()
    actor_type = fields.String(metadata={"description": "user, api_key, oauth (a connected app "
                                                                "acting for the account), encounter, anonymous "
                                                                "or system"})
    actor_user_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_email = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)


class AuditEventSchema(AccessLogEntrySchema):
    patient_id = fields.String(allow_none=True)
    actor_key_id = fields.String(allow_none=True)
    actor_encounter_id = fields.String(allow_none=True)
    ip_hash = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    details = fields.Function(lambda event: json.loads(event.details or "{}"))


class AuditQueryArgs(PageArgs):
    actor_user_id = fields.String(load_default=None, validate=validate.Length(max=32))
    patient_id = fields.String(load_default=None, validate=validate.Length(max=36))
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    since = Timestamp(load_default=None)
    until = Timestamp(load_default=None)


AccessLogPageSchema = page_schema(AccessLogEntrySchema, "AccessLogPage")
AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPage")
