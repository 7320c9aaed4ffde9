"""Bodies of plans, subscriptions and invoices (money in integer minor units)."""
from marshmallow import Schema, fields, validate

from avycenna.schemas import PageArgs, Timestamp, page_schema


class PlanSchema(Schema):
    id = fields.String(metadata={"example": "monthly"})
    name = fields.String(metadata={"example": "Monthly"})
    price = fields.Integer(metadata={"description": "Minor units (cents).", "example": 2900})
    currency = fields.String(metadata={"example": "usd"})
    interval = fields.String(metadata={"enum": ["day", "week", "month", "year"]})
    included_encounters = fields.Integer(metadata={"description": "Submitted encounters per period."})


class InvoiceSchema(Schema):
    id = fields.String(metadata={"example": "inv_3Hk8LmQz1VbN"})
    kind = fields.String(metadata={"enum": ["subscription", "encounter"]})
    description = fields.String()
    amount = fields.Integer(metadata={"description": "Minor units (cents).", "example": 4900})
    currency = fields.String(metadata={"example": "usd"})
    status = fields.String(metadata={"enum": ["open", "paid", "void"]})
    subscription_id = fields.String(allow_none=True)
    encounter_id = fields.String(allow_none=True)
    created_at = Timestamp()
    paid_at = Timestamp(allow_none=True)


InvoicePage = page_schema(InvoiceSchema, "InvoicePage")


class InvoiceListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["open", "paid", "void"]))


class SubscriptionSchema(Schema):
    id = fields.String(metadata={"example": "sub_Zp4Kq9LmT2Xw"})
    plan = fields.String(metadata={"example": "monthly"})
    status = fields.String(metadata={"enum": ["pending", "active", "past_due", "cancelled"]})
    current_period_start = Timestamp(allow_none=True)
    current_period_end = Timestamp(allow_none=True)
    encounters_used = fields.Method("_used", metadata={"type": "integer"})
    encounters_included = fields.Method("_included", metadata={"type": "integer"})
    open_invoice = fields.Method("_open_invoice", metadata={
        "allOf": [{"$ref": "#/components/schemas/Invoice"}], "nullable": True,
        "description": "The invoice waiting to be paid, or null."})
    created_at = Timestamp()
    cancelled_at = Timestamp(allow_none=True)

    def _used(self, subscription):
        from avycenna.billing.service import used_allowance

        return used_allowance(subscription) if subscription.current_period_start else 0

    def _included(self, subscription):
        from avycenna.billing.plans import find_plan

        return (find_plan(subscription.plan) or {}).get("included_encounters", 0)

    def _open_invoice(self, subscription):
        from avycenna.billing.models import Invoice

        invoice = subscription.invoices.where(Invoice.status == "open").first()
        return InvoiceSchema().dump(invoice) if invoice else None


class NewSubscriptionSchema(Schema):
    plan = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"example": "monthly"})


PlanPage = page_schema(PlanSchema, "PlanList")
