"""Bodies of /api/v1/webhook-endpoints."""
from marshmallow import Schema, fields, validate

from avycenna.schemas import PageArgs, Timestamp
from avycenna.webhooks.events import EVENTS

EVENT_NAMES = sorted(EVENTS)
EVENTS_DOC = ("Event types to receive; omitted, null or empty: every event. "
              + " ".join(f"`{name}`: {text}" for name, text in EVENTS.items()))


class EndpointInSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048),
                        metadata={"example": "https://integrator.example/hooks/avycenna",
                                  "description": "http(s) URL on a public address (an admin can allow "
                                                 "LAN hosts with WEBHOOK_ALLOWED_HOSTS)."})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)), allow_none=True,
                         validate=validate.Length(max=len(EVENT_NAMES)),
                         metadata={"example": ["encounter.answered"], "description": EVENTS_DOC})
    description = fields.String(allow_none=True, validate=validate.Length(max=500),
                                metadata={"example": "Our agent's callback"})


class EndpointPatchSchema(EndpointInSchema):
    url = fields.String(validate=validate.Length(min=1, max=2048))


class EndpointSchema(Schema):
    id = fields.String(metadata={"example": "whe_4Fq9ZtLmP2aB"})
    url = fields.String()
    events = fields.List(fields.String(), attribute="event_list",
                         metadata={"description": "Subscribed event types; empty: every event."})
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "`active`, or `failing` when a delivery used up its "
                                                    "retries (a later success makes it active again)."})
    previous_secret_expires_at = Timestamp(
        attribute="previous_secret_until", allow_none=True,
        metadata={"description": "After a secret rotation: until when the previous secret still signs "
                                 "(deliveries carry both signatures); null otherwise."})
    created_at = Timestamp()
    updated_at = Timestamp()


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(metadata={"example": "whsec_qVSd2/cHZTVREzH3pMYnFjMhRynS9wdnpG5KT13ElLk=",
                                     "description": "Signing secret for verifying `webhook-signature` "
                                                    "(Standard Webhooks). Shown only this once."})


class DeliverySchema(Schema):
    id = fields.String(metadata={"example": "whd_9aB3xYz7QwEr"})
    webhook_id = fields.String(attribute="message_id",
                               metadata={"description": "The `webhook-id` header: the same on every "
                                                        "attempt, for de-duplication."})
    event_type = fields.String(metadata={"example": "encounter.answered"})
    status = fields.String(metadata={"description": "`pending`, `delivered` or `failed` (retries used up)."})
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True, metadata={"description": "HTTP status of the last attempt."})
    last_error = fields.String(allow_none=True)
    next_attempt_at = Timestamp(allow_none=True, metadata={"description": "When pending: the next try."})
    last_attempt_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class DeliveryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(("pending", "delivered", "failed")))
