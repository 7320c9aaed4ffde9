"""Webhook endpoints an account registers, and the outbox of deliveries to them."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, SmallIntegerField, TextField

from avycenna.auth.models import User
from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id


class WebhookEndpoint(BaseModel):
    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("whe"))
    user = ForeignKeyField(User, backref="webhook_endpoints", on_delete="CASCADE")
    url = CharField(max_length=2048)
    events = CharField(max_length=512, default="")  # comma-separated event types; "" = every event
    description = CharField(max_length=500, null=True)
    # The endpoint's own signing secret (`whsec_…`, see secrets.py): stored, so that neither a
    # SECRET_KEY rotation nor a restore under another key changes it.
    secret = CharField(max_length=64)
    # After a rotation, the secret before it still signs until `previous_secret_until`.
    previous_secret = CharField(max_length=64, null=True)
    previous_secret_until = DateTimeField(null=True)
    status = CharField(max_length=16, default="active")  # active | failing (last delivery gave up)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @property
    def event_list(self):
        return [e for e in self.events.split(",") if e]


class WebhookDelivery(BaseModel):
    """One event for one endpoint: written in the transaction of the change it reports."""

    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("whd"))
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE", index=False)
    message_id = CharField(max_length=32)  # the `webhook-id`: same on every retry
    event_type = CharField(max_length=64)
    payload = TextField()  # the exact JSON body that is signed and sent
    status = CharField(max_length=16, default="pending")  # pending | delivered | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)  # when pending: when it is due
    lease_until = DateTimeField(null=True)  # an attempt is in flight until then
    last_attempt_at = DateTimeField(null=True)
    response_status = SmallIntegerField(null=True)
    last_error = CharField(max_length=200, null=True)
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),
                   (("endpoint", "created_at"), False))
