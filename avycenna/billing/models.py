"""Subscriptions and invoices (self-hosted billing; money in integer minor units)."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.encounters.models import Encounter
from avycenna.ids import new_id


class Subscription(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("sub"))
    account = ForeignKeyField(User, backref="subscriptions", on_delete="CASCADE")
    plan = CharField(max_length=64)  # a plan id from BILLING_PLANS
    status = CharField(max_length=16, default="pending", index=True)  # pending | active | past_due | cancelled
    current_period_start = DateTimeField(null=True)
    current_period_end = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    cancelled_at = DateTimeField(null=True)


class Invoice(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("inv"))
    account = ForeignKeyField(User, backref="invoices", on_delete="CASCADE")
    kind = CharField(max_length=16)  # subscription | encounter
    subscription = ForeignKeyField(Subscription, null=True, backref="invoices", on_delete="CASCADE")
    encounter = ForeignKeyField(Encounter, null=True, backref="invoices", on_delete="CASCADE")
    description = CharField(max_length=200)
    amount = IntegerField()  # minor units (cents)
    currency = CharField(max_length=3)
    status = CharField(max_length=16, default="open", index=True)  # open | paid | void
    created_at = DateTimeField(default=utcnow)
    paid_at = DateTimeField(null=True)
    paid_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
