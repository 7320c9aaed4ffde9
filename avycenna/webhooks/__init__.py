"""Signed webhooks (Standard Webhooks): endpoints, an outbox of deliveries, and their sending."""


def init_app(app):
    """Register the delivery jobs and hand each request's new deliveries to the queue."""
    from avycenna.webhooks import events, tasks

    @app.after_request
    def _enqueue_deliveries(response):
        tasks.enqueue(events.queued_in_request())
        return response
