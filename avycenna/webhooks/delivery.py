"""Sending one delivery: claim it, sign it, POST it to the checked address, record the outcome.

Safe with several workers and processes: a sender first claims the delivery with a
conditional UPDATE (due, still pending) that also pushes its due time a lease
(`WEBHOOK_LEASE_SECONDS`) ahead, so exactly one sender posts it, and a sender that dies
mid-way leaves it due again once the lease runs out: the next attempt carries the same
`webhook-id`, so a receiver that got the first one can tell. The outcome is written only if no later
attempt has started (`attempts` unchanged).

Retries follow `WEBHOOK_RETRY_SCHEDULE` (seconds after each failed attempt; by
default the Standard Webhooks schedule, about a day in all). When the last attempt
fails the delivery is `failed` and its endpoint `failing`; a later success (a new
event or a manual retry) sets the endpoint `active` again.
"""
import time
from datetime import datetime, timedelta, timezone

import urllib3
from flask import current_app
from standardwebhooks.webhooks import Webhook

from avycenna import outbound
from avycenna.clock import utcnow
from avycenna.instruments import count_webhook_attempt
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint
from avycenna.webhooks.secrets import signing_secrets

MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of a receiver's answer
USER_AGENT = "AVYCENNA-Webhooks/1"


def schedule():
    return list(current_app.config["WEBHOOK_RETRY_SCHEDULE"])


def signed_headers(secrets, message_id, body, now=None):
    """The Standard Webhooks headers for `body`, signed by the `standardwebhooks` library with
    each of `secrets` (a secret, or a list: the signatures space-separated, as the standard allows
    while a secret is being rotated)."""
    seconds = int(now if now is not None else time.time())
    when = datetime.fromtimestamp(seconds, timezone.utc)
    if isinstance(secrets, str):
        secrets = [secrets]
    signature = " ".join(Webhook(secret).sign(message_id, when, body) for secret in secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(seconds),
            "webhook-signature": signature, "content-type": "application/json",
            "user-agent": USER_AGENT}


def post(url, address, body, headers):
    """POST `body` to `url` at the already-checked `address` (no redirects, capped read): the
    response status; raises urllib3's HTTPError on network failures."""
    config = current_app.config
    return outbound.send("POST", url, address, headers, body.encode(), timeout=config["WEBHOOK_TIMEOUT"],
                         ca_certs=config["WEBHOOK_CA_BUNDLE"], max_bytes=MAX_RESPONSE_BYTES)[0]


def attempt(endpoint, delivery):
    """(response status or None, error or None) of one POST of `delivery` to `endpoint`."""
    try:
        addresses = outbound.resolve(endpoint.url)
    except outbound.RefusedUrl as exc:
        return None, f"refused: {exc}"
    headers = signed_headers(signing_secrets(endpoint), delivery.message_id, delivery.payload)
    try:
        status = post(endpoint.url, addresses[0], delivery.payload, headers)
    except urllib3.exceptions.HTTPError as exc:
        return None, f"network error: {type(exc).__name__}"
    if 300 <= status < 400:
        return status, "redirect not followed"
    return status, None if 200 <= status < 300 else f"receiver answered {status}"


def claim(delivery_id, now=None):
    """The delivery if it is due and this caller won it (attempts counted, lease taken), else None."""
    now = now or utcnow()
    lease = now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    won = (WebhookDelivery.update(attempts=WebhookDelivery.attempts + 1, last_attempt_at=now,
                                  next_attempt_at=lease, lease_until=lease)
           .where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == "pending")
                  & (WebhookDelivery.next_attempt_at <= now))
           .execute())
    return WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id) if won else None


def finish(delivery, status_code, error):
    """Record an attempt's outcome; returns the seconds until the next attempt, or None."""
    now = utcnow()
    values = {"response_status": status_code, "last_error": error, "lease_until": None}
    retry_in = None
    if error is None:
        values.update(status="delivered", delivered_at=now, next_attempt_at=None)
    else:
        steps = schedule()
        if delivery.attempts <= len(steps):
            retry_in = steps[delivery.attempts - 1]
            values["next_attempt_at"] = now + timedelta(seconds=retry_in)
        else:
            values.update(status="failed", next_attempt_at=None)
    written = (WebhookDelivery.update(**values)
               .where((WebhookDelivery.id == delivery.id) & (WebhookDelivery.attempts == delivery.attempts)
                      & (WebhookDelivery.status == "pending"))
               .execute())
    if written:
        count_webhook_attempt(values.get("status") or "retrying")
    if written and values.get("status"):
        healthy = values["status"] == "delivered"
        (WebhookEndpoint.update(status="active" if healthy else "failing", updated_at=now)
         .where((WebhookEndpoint.id == delivery.endpoint_id)
                & (WebhookEndpoint.status == ("failing" if healthy else "active")))
         .execute())
    return retry_in if written else None


def deliver(delivery_id):
    """Send one due delivery. Returns seconds until its retry, or None (sent, gave up, not due)."""
    delivery = claim(delivery_id)
    if delivery is None:
        return None
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == delivery.endpoint_id)
    if endpoint is None:
        return None
    return finish(delivery, *attempt(endpoint, delivery))


def due(limit=500):
    """Ids of pending deliveries whose time has come, oldest first (up to `limit`)."""
    return [delivery_id for page in due_pages(limit, limit) for delivery_id in page]


def due_pages(page=500, most=10000):
    """The due deliveries' ids in pages of `page`, oldest first, at most `most` in all (the
    sweep's work list: a backlog after a queue outage can be longer than one page)."""
    now, after, given = utcnow(), None, 0
    while given < most:
        query = (WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
                 .where((WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now))
                 .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(min(page, most - given)))
        if after is not None:
            at, last_id = after
            query = query.where((WebhookDelivery.next_attempt_at > at)
                                | ((WebhookDelivery.next_attempt_at == at) & (WebhookDelivery.id > last_id)))
        rows = list(query)
        if not rows:
            return
        yield [row.id for row in rows]
        given += len(rows)
        after = (rows[-1].next_attempt_at, rows[-1].id)
