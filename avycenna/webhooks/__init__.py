"""Signed webhooks (Standard Webhooks): endpoints, an outbox of deliveries, and their sending."""


def init_app(app):
    """Register the delivery jobs."""
    from avycenna.webhooks import tasks  # noqa: F401 (registers the jobs and the sweep)


def enqueue_deliveries(response, request, g):
    """After each request: hand the deliveries it queued in the outbox to the job queue."""
    from avycenna.webhooks import events, tasks

    tasks.enqueue(events.queued_in(g))
    return response
