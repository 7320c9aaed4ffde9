"""Signed webhooks (Standard Webhooks): endpoints, an outbox of deliveries, and their sending."""


def init_app(app):
    """Register the delivery jobs, and hand the deliveries a job queued (an import's
    `wearables.ingested`, say) to the workers when it ends, as a request's are."""
    from avycenna import jobs
    from avycenna.webhooks import tasks  # noqa: F401 (registers the jobs and the sweep)

    jobs.after_each_job(enqueue_queued)


def enqueue_queued(g):
    """After a job: hand the deliveries it queued in the outbox to the job queue."""
    from avycenna.webhooks import events, tasks

    tasks.enqueue(events.queued_in(g))


def enqueue_deliveries(response, request, g):
    """After each request: hand the deliveries it queued in the outbox to the job queue."""
    enqueue_queued(g)
    return response
