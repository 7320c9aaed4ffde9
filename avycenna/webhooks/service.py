"""Webhook endpoints of an account: register, list, change, delete, test, rotate the secret;
the delivery log."""
from datetime import timedelta

from flask import current_app

from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.db import write_transaction
from avycenna.errors import fail, not_found, validation_error
from avycenna import outbound
from avycenna.webhooks import events
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint
from avycenna.webhooks.secrets import new_secret

NOT_FOUND = "Webhook endpoint not found."


def checked_url(url):
    """`url` if it may receive webhooks now; a 422 on `url` saying why not."""
    try:
        outbound.resolve(url)
    except outbound.RefusedUrl as exc:
        validation_error(["body", "url"], str(exc))
    return url


def create_endpoint(user, url, event_types=None, description=None):
    """Register an endpoint: returns (row, its `whsec_…` secret, shown this once)."""
    secret = new_secret()
    with write_transaction():
        row = WebhookEndpoint.create(user=user, url=checked_url(url), events=",".join(event_types or []),
                                     description=description, secret=secret)
        record("webhook_endpoint.create", target_type="webhook_endpoint", target_id=row.id)
    return row, secret


def rotate_secret(user, endpoint_id):
    """Give the endpoint a new secret: returns (row, the new `whsec_…` secret, shown this once).

    The secret it replaces keeps signing (beside the new one) for `WEBHOOK_SECRET_OVERLAP`
    seconds, so a receiver can switch without missing a delivery; a secret from before an
    earlier rotation stops at once. Two rotations racing: one wins, the other is a 409.
    """
    secret, now = new_secret(), utcnow()
    overlap = timedelta(seconds=current_app.config["WEBHOOK_SECRET_OVERLAP"])
    with write_transaction():
        row = get_endpoint(user, endpoint_id)
        rotated = (WebhookEndpoint.update(secret=secret, previous_secret=row.secret,
                                          previous_secret_until=now + overlap, updated_at=now)
                   .where((WebhookEndpoint.id == row.id) & (WebhookEndpoint.secret == row.secret))
                   .execute())
        if not rotated:
            fail(409, "The secret was rotated at the same moment; try again.")
        record("webhook_endpoint.rotate_secret", target_type="webhook_endpoint", target_id=row.id)
    return get_endpoint(user, endpoint_id), secret


def list_endpoints(user):
    return WebhookEndpoint.select().where(WebhookEndpoint.user == user)


def get_endpoint(user, endpoint_id):
    row = WebhookEndpoint.get_or_none((WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.user == user))
    if row is None:
        not_found(NOT_FOUND)
    return row


def update_endpoint(user, endpoint_id, changes):
    """Change url, events or description (only the fields given)."""
    values = {}
    if "url" in changes:
        values["url"] = checked_url(changes["url"])
    if "events" in changes:
        values["events"] = ",".join(changes["events"] or [])
    if "description" in changes:
        values["description"] = changes["description"]
    with write_transaction():
        get_endpoint(user, endpoint_id)
        if values:
            values["updated_at"] = utcnow()
            WebhookEndpoint.update(**values).where(WebhookEndpoint.id == endpoint_id).execute()
        record("webhook_endpoint.update", target_type="webhook_endpoint", target_id=endpoint_id,
               fields=sorted(values))
    return get_endpoint(user, endpoint_id)


def delete_endpoint(user, endpoint_id):
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    with write_transaction():
        deleted = (WebhookEndpoint.delete()
                   .where((WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.user == user)).execute())
        if not deleted:
            not_found(NOT_FOUND)
        record("webhook_endpoint.delete", target_type="webhook_endpoint", target_id=endpoint_id)


def send_test(user, endpoint_id):
    """Queue a `webhook.test` event to this endpoint alone; returns its delivery."""
    with write_transaction():
        endpoint = get_endpoint(user, endpoint_id)
        [delivery_id] = events.queue([endpoint], events.TEST_EVENT, {"endpoint_id": endpoint.id})
    return WebhookDelivery.get_by_id(delivery_id)


def list_deliveries(user, endpoint_id, status=None):
    endpoint = get_endpoint(user, endpoint_id)
    query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint.id)
    return query.where(WebhookDelivery.status == status) if status else query


def retry_delivery(user, endpoint_id, delivery_id):
    """Send a delivery again now, with its same `webhook-id` and body.

    Refused (409) only while an attempt is in flight.
    """
    endpoint = get_endpoint(user, endpoint_id)
    now = utcnow()
    in_flight = WebhookDelivery.lease_until.is_null(False) & (WebhookDelivery.lease_until > now)
    with write_transaction():
        mine = (WebhookDelivery.id == delivery_id) & (WebhookDelivery.endpoint == endpoint.id)
        if not WebhookDelivery.select().where(mine).exists():
            not_found("Delivery not found.")
        updated = (WebhookDelivery.update(status="pending", next_attempt_at=now)
                   .where(mine & ~in_flight).execute())
        if not updated:
            fail(409, "An attempt of this delivery is in progress; try again in a minute.")
        record("webhook_delivery.retry", target_type="webhook_delivery", target_id=delivery_id)
        events.remember([delivery_id])
    return WebhookDelivery.get_by_id(delivery_id)
