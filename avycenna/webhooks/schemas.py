"""Bodies of /api/v1/webhook-endpoints."""
from marshmallow import Schema, fields, validate

from avycenna.schemas import PageArgs, Pattern, Timestamp
from avycenna.webhooks.events import EVENTS

EVENT_NAMES = sorted(EVENTS)
EVENTS_DOC = ("Event types to receive; omitted, null or empty: every event. "
              + " ".join(f"`{name}`: {text}" for name, text in EVENTS.items()))


# An http(s) URL with a host, no user name or password, no fragment, a port of 1–65535, and no
# space or control character (what outbound.parse accepts, as a pattern for the document).
PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = (r"^https?://(?:(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+|\[[0-9A-Fa-f:.]+\])(?::" + PORT + r")?"
               r"(?:[/?][\x21-\x22\x24-\x7e]*)?$")


def Url(**kwargs):
    """A webhook URL. The host must also resolve, when the URL is registered and before every
    delivery, to public addresses only: a rule of the network, not of the text (a 422 naming it)."""
    return fields.String(validate=[validate.Length(min=1, max=2048), Pattern(URL_PATTERN, "Not a valid http(s) URL.")],
                         metadata={"format": "uri", "example": "https://integrator.example/hooks/avycenna",
                                   "description": "http(s) URL whose host resolves to public addresses (an "
                                                  "admin can allow LAN hosts with WEBHOOK_ALLOWED_HOSTS)."},
                         **kwargs)


class EndpointInSchema(Schema):
    url = Url(required=True)
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)), allow_none=True,
                         validate=validate.Length(max=len(EVENT_NAMES)),
                         metadata={"example": ["encounter.answered"], "description": EVENTS_DOC})
    description = fields.String(allow_none=True, validate=validate.Length(max=500),
                                metadata={"example": "Our agent's callback"})


class EndpointPatchSchema(EndpointInSchema):
    url = Url()


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
