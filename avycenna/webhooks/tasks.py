"""The background jobs: send one delivery (and schedule its retry), sweep for due ones."""
from avycenna import jobs
from avycenna.webhooks import delivery


# A run that fails (its database restarting) runs again shortly: the claim makes a second run
# harmless, and one that finds its delivery leased leaves it to the lease's end and the sweep.
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
    """Every minute: enqueue every due delivery (retries, and any left by a crash or a CLI)."""
    for delivery_id in delivery.due():
        jobs.enqueue_safely(send, delivery_id)


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
