"""Bodies of POST /api/v1/checkout."""
from marshmallow import Schema, fields, validate

from avycenna.billing.schemas import InvoiceSchema
from avycenna.encounters.lifecycle import STATUSES


class CheckoutSchema(Schema):
    encounter_token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    patient_id = fields.UUID(required=True)


class CheckoutResultSchema(Schema):
    encounter_id = fields.String(metadata={"example": "enc_8fHq2LmZt9Wb"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    submitted = fields.Boolean()
    pending_reasons = fields.List(fields.String())
    patient_id = fields.UUID(allow_none=True)
    invoice = fields.Nested(InvoiceSchema, allow_none=True, metadata={
        "description": "The one invoice that pays for this question when payment is what is pending: "
                       "the open invoice of a subscription chosen but not paid yet (paying it submits the "
                       "encounter under the plan), else a one-off encounter invoice."})
