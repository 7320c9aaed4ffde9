"""A delivery queued when `python app.py` is SIGKILLed is delivered after the restart."""
import os
import signal

import pytest
import requests

from bench.setup import make_instance
from tests.test_instance import free_port, start_server, stop
from tests.test_jobs import wait_for
from tests.webhook_receiver import Receiver

SAMPLES = {"source": "apple_watch",
           "samples": [{"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 72, "unit": "count/min"}]}


@pytest.mark.parametrize("queue_lost", [False, True], ids=["queued-job-survives", "outbox-swept"])
def test_a_delivery_queued_before_sigkill_is_delivered_after_restart(tmp_path, queue_lost):
    instance = tmp_path / "instance"
    _, patient, key = make_instance(str(instance))
    receiver = Receiver().start()
    allow = {"AVYCENNA_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]'}
    port = free_port()
    base, headers = f"http://127.0.0.1:{port}/api/v1", {"X-API-Key": key}
    # First life: no workers (as if they were busy or down), so the delivery stays queued.
    proc = start_server(instance, port, {**allow, "AVYCENNA_QUEUE_EMBEDDED": "false"})
    try:
        hook = requests.post(f"{base}/webhook-endpoints", json={"url": receiver.url()}, headers=headers,
                             timeout=10).json()
        r = requests.post(f"{base}/patients/{patient.id}/wearables", json=SAMPLES, headers=headers, timeout=10)
        assert r.status_code in (200, 201), r.text
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    assert receiver.requests == []
    if queue_lost:  # the crash came between the commit and the enqueue: only the outbox row is left
        (instance / "jobs.sqlite3").unlink()

    proc = start_server(instance, port, allow)  # second life: the embedded workers start
    try:
        assert receiver.wait_for(1, seconds=30), "the queued delivery was never sent"
        [(headers_, payload)] = receiver.verified(hook["secret"])
        assert payload["type"] == "wearables.ingested" and payload["data"]["patient_id"] == str(patient.id)

        def logged():
            return [(d["status"], d["webhook_id"]) for d in requests.get(
                f"{base}/webhook-endpoints/{hook['id']}/deliveries", headers=headers, timeout=10).json()["data"]]
        assert wait_for(lambda: logged() == [("delivered", headers_["webhook-id"])]), logged()
    finally:
        stop(proc)
        receiver.stop()
