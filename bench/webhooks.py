"""What an event costs the request that causes it: a wearable upload with and without webhooks.

Two accounts on one instance, uploads alternating between them in the same run:
POST /patients/{id}/wearables (10 new samples, API key, audit) by an account with no
webhook endpoint, and by one with 3 endpoints subscribed to `wearables.ingested`. The
difference is the outbox (3 delivery rows in the request's transaction) and one job
handed to the queue; sending happens later in the workers (none run here).
Ratio = with / without (1.0 would be free).
"""
import statistics
import tempfile
import time
from datetime import date

from bench.setup import make_instance

REPEAT = 100


def second_account(app):
    from avycenna.api_keys.service import create_key
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.patients.models import Patient

    with app.app_context(), database.obj.connection_context():
        user = create_user("hooks@example.test")
        _, key = create_key(user, "bench")
        patient = Patient.create(account=user, name="Hooks", date_of_birth=date(1980, 1, 1), relationship="self")
    return patient, key


def upload(client, patient, key, n):
    samples = [{"type": "heart_rate", "start": f"2026-11-20T08:{n % 60:02d}:{s:02d}Z", "value": 60 + s,
                "unit": "count/min"} for s in range(10)]
    started = time.perf_counter()
    r = client.post(f"/api/v1/patients/{patient.id}/wearables", headers={"X-API-Key": key},
                    json={"source": f"bench{n // 60}", "samples": samples})
    elapsed = time.perf_counter() - started
    assert r.status_code in (200, 201) and r.get_json()["inserted"] == 10, r.get_json()
    return elapsed


def main():
    with tempfile.TemporaryDirectory() as instance:
        app, plain_patient, plain_key = make_instance(instance)
        hooked_patient, hooked_key = second_account(app)
        app.config["WEBHOOK_ALLOWED_HOSTS"] = ["127.0.0.1"]
        client = app.test_client()
        for n in range(3):
            r = client.post("/api/v1/webhook-endpoints", headers={"X-API-Key": hooked_key},
                            json={"url": f"http://127.0.0.1:9/hook{n}", "events": ["wearables.ingested"]})
            assert r.status_code == 201, r.get_json()
        without, with_hooks = [], []
        for n in range(-10, REPEAT):  # the first 10 warm up
            a, b = upload(client, plain_patient, plain_key, n + 10), upload(client, hooked_patient, hooked_key, n + 10)
            if n >= 0:
                without.append(a)
                with_hooks.append(b)
        without, with_hooks = statistics.median(without), statistics.median(with_hooks)
    print(f"webhooks: a 10-sample wearable upload (API key, SQLite), median of {REPEAT}, alternating")
    print(f"  no webhook endpoint        : {without * 1000:8.2f} ms")
    print(f"  3 endpoints subscribed     : {with_hooks * 1000:8.2f} ms  (3 outbox rows, 1 job queued)")
    print(f"  ratio (with / without)     : {with_hooks / without:8.2f}x")
    return {"without": without, "with": with_hooks}


if __name__ == "__main__":
    main()
