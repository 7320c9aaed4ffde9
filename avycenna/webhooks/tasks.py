"""The background jobs: send one delivery (and schedule its retry), sweep for due ones."""
import logging

from avycenna import jobs
from avycenna.webhooks import delivery


# A run that fails (its database restarting) runs again shortly: the claim makes a second run
# harmless, and one that finds its delivery leased leaves it to the lease's end and the sweep.
log = logging.getLogger("avycenna")
RERUNS = {"retries": 3, "retry_delay": 2}


@jobs.task(**RERUNS)
def send(delivery_id):
    """Send one delivery; after a failure, schedule its next attempt on the queue."""
    retry_in = delivery.deliver(delivery_id)
    if retry_in is not None:
        try:
            send.schedule((delivery_id,), delay=retry_in)
        except Exception:  # the queue is unreachable: the sweep finds it when it is due
            pass


@jobs.after_outage
@jobs.periodic_task(jobs.crontab(minute="*"), **RERUNS)
def sweep():
    """Every minute: enqueue every due delivery (retries, and any left by a crash, a queue outage
    or a CLI), page by page (up to 10,000 a sweep; the next sweep takes the rest)."""
    count = 0
    for page in delivery.due_pages():
        for delivery_id in page:
            jobs.enqueue_safely(send, delivery_id)
        count += len(page)
    if count:
        log.info("webhook sweep: %d deliveries due", count)


@jobs.huey.on_startup("webhooks.sweep")
def sweep_on_start():
    """When workers start (after a restart or a crash), look for due deliveries at once, and
    again once a lease has run out: a delivery a killed worker was sending is due then."""
    jobs.enqueue_safely(sweep)
    try:
        sweep.schedule(delay=int(jobs.setting("WEBHOOK_LEASE_SECONDS")) + 1)
    except Exception:  # the queue is unreachable: the periodic sweep finds them
        pass


@jobs.task()
def send_each(delivery_ids):
    """Fan a request's deliveries out to the workers, one job each (so one slow receiver
    holds up only its own)."""
    for delivery_id in delivery_ids:
        jobs.enqueue_safely(send, delivery_id)


def enqueue(delivery_ids):
    """Hand new deliveries to the workers, after their transaction committed: one queue
    write per request, whatever the number of endpoints (the sweep covers a failure)."""
    if len(delivery_ids) == 1:
        jobs.enqueue_safely(send, delivery_ids[0])
    elif delivery_ids:
        jobs.enqueue_safely(send_each, list(delivery_ids))
