"""GET /metrics: admins only, route templates (never paths), refusals, jobs and their age,
webhook outcomes, progress, the pool, the version — no person in any label; and, with
PROMETHEUS_MULTIPROC_DIR, two real server processes counted as one."""
import re
import threading
import time
from datetime import timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from avycenna.clock import utcnow
from avycenna.db import database
from tests.factories import make_patient
from tests.test_instance import free_port, start_server, stop
from tests.webhook_receiver import Receiver


def samples(response):
    """{(name, frozenset(labels)): value} of a scrape."""
    assert response.status_code == 200, response.data[:300]
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def admin_key(make_user, key_for):
    return key_for(make_user("admin"))


def test_only_an_admin_credential_sees_the_metrics(client, make_user, token_for, key_for):
    admin = make_user("admin")
    for headers in (token_for(make_user("member")), key_for(make_user("clinician"))):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 404 and r.get_json() == {"detail": "Not found."}
    for headers in ({}, {"X-API-Key": "avk_wrong"}):
        assert client.get("/metrics", headers=headers).status_code == 401
    for headers in (token_for(admin), key_for(admin), {"Authorization": "Bearer " + key_for(admin)["X-API-Key"]}):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 200 and r.mimetype == "text/plain"
        assert "avycenna_build_info" in r.get_data(as_text=True)


def growth(before, after):
    """value(…) of what grew between two scrapes (the instruments live as long as the process)."""
    return lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)


def test_requests_are_counted_by_route_template_method_and_status(app, client, owner, headers, admin_key):
    patient = make_patient(app, owner, name="Quentin Zebulon")
    before = samples(client.get("/metrics", headers=admin_key))
    for _ in range(3):
        assert client.get(f"/api/v1/patients/{patient.id}", headers=headers).status_code == 200
    assert client.get("/api/v1/no/such/thing").status_code == 404
    found = samples(client.get("/metrics", headers=admin_key))
    grew = growth(before, found)
    route = "/api/v1/patients/<string:patient_id>"
    assert grew("avycenna_http_requests_total", route=route, method="GET", status="200") == 3
    assert grew("avycenna_http_request_duration_seconds_count", route=route, method="GET") == 3
    assert grew("avycenna_http_requests_total", route="(unmatched)", method="GET", status="404") == 1
    assert value(found, "avycenna_build_info", version=app.config["API_VERSION"],
                 database="sqlite" if app.config["DATABASE_URL"].startswith("sqlite") else "postgresql") == 1


def test_rate_limit_refusals_and_auth_failures_are_counted(app, client, admin_key):
    app.config["RATELIMIT_ANONYMOUS"] = "2/minute"
    before = samples(client.get("/metrics", headers=admin_key))
    answers = [client.get("/api/v1/auth/me").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    assert client.get("/api/v1/patients", headers={"Authorization": "Bearer not.a.jwt"},
                      environ_base={"REMOTE_ADDR": "127.0.0.9"}).status_code == 401
    grew = growth(before, samples(client.get("/metrics", headers=admin_key)))
    assert grew("avycenna_ratelimit_refusals_total", route="/api/v1/auth/me") == 1
    assert grew("avycenna_auth_failures_total", route="/api/v1/auth/me", caller="anonymous") == 2
    assert grew("avycenna_auth_failures_total", route="/api/v1/patients", caller="invalid") == 1


def test_work_by_kind_and_state_with_its_age_and_progress(app, client, owner, admin_key):
    from avycenna.fhir.models import FhirExport
    from avycenna.imports.models import WearableImport
    from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint

    patient = make_patient(app, owner)
    now = utcnow()
    with app.app_context(), database.obj.connection_context():
        endpoint = WebhookEndpoint.create(user=owner, url="https://hooks.example.test/x",
                                          secret="whsec_" + "A" * 32)
        for age, fields in ((300, {}), (60, {}), (200, {"attempts": 2}),
                            (30, {"attempts": 1, "lease_until": now + timedelta(seconds=50)}),
                            (900, {"status": "failed", "attempts": 8}), (10, {"status": "delivered"})):
            WebhookDelivery.create(endpoint=endpoint, message_id="msg", event_type="webhook.test", payload="{}",
                                   created_at=now - timedelta(seconds=age), **fields)
        WearableImport.create(patient=patient, account=owner, filename="export.zip", bytes_total=1000,
                              bytes_read=250, status="running", attempts=1, created_at=now - timedelta(seconds=120))
        WearableImport.create(patient=patient, account=owner, filename="export.zip", bytes_total=10,
                              status="queued", attempts=1, created_at=now - timedelta(seconds=400))
        FhirExport.create(user=owner, types="Patient", request_url="http://x/fhir/R4/Patient/$export",
                          status="running", attempt=1, patients_total=8, patients_done=3)
        FhirExport.create(user=owner, types="Patient", request_url="http://x", status="failed")
    found = samples(client.get("/metrics", headers=admin_key))

    def jobs(kind, state):
        return value(found, "avycenna_jobs", kind=kind, state=state)

    def age(kind, state):
        return value(found, "avycenna_jobs_oldest_age_seconds", kind=kind, state=state)

    assert [jobs("webhook_delivery", s) for s in ("queued", "running", "retried", "failed")] == [2, 1, 1, 1]
    assert 295 <= age("webhook_delivery", "queued") < 400 and 195 <= age("webhook_delivery", "retried") < 300
    assert [jobs("import", s) for s in ("queued", "running", "retried", "failed")] == [0, 1, 1, 0]
    assert 395 <= age("import", "retried") < 500 and age("import", "queued") == 0
    assert [jobs("export", s) for s in ("queued", "running", "retried", "failed")] == [0, 1, 0, 1]
    assert value(found, "avycenna_import_bytes", progress="read") == 250
    assert value(found, "avycenna_import_bytes", progress="total") == 1000
    assert value(found, "avycenna_export_patients", progress="done") == 3
    assert value(found, "avycenna_export_patients", progress="total") == 8
    for queue in ("default", "bulk"):  # each queue's depth, the bulk one (imports, exports) apart
        key = ("avycenna_queue_pending_jobs", frozenset({("queue", queue)}))
        assert key in found and found[key] >= 0


def test_job_events_and_webhook_outcomes_are_counted(app, client, owner, headers, admin_key):
    from avycenna.webhooks import delivery

    app.config.update(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], WEBHOOK_RETRY_SCHEDULE=[0])
    receiver = Receiver().start()
    try:
        receiver.responses.extend([500, 500])  # the first event's two attempts fail: retried, then failed
        before = samples(client.get("/metrics", headers=admin_key))
        r = client.post("/api/v1/webhook-endpoints", json={"url": receiver.url("/hook")}, headers=headers)
        endpoint_id = r.get_json()["id"]
        for attempts in (2, 1):  # the second event is delivered at once
            assert client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test", headers=headers).status_code == 202
            with app.app_context(), database.obj.connection_context():
                for _ in range(attempts):
                    assert [delivery.deliver(d) for d in delivery.due()]
        grew = growth(before, samples(client.get("/metrics", headers=admin_key)))
    finally:
        receiver.stop()

    assert grew("avycenna_job_events_total", job="send", event="queued") == 2
    assert grew("avycenna_webhook_delivery_attempts_total", outcome="retrying") == 1
    assert grew("avycenna_webhook_delivery_attempts_total", outcome="failed") == 1  # a one-retry schedule, used up
    assert grew("avycenna_webhook_delivery_attempts_total", outcome="delivered") == 1


def test_pool_use_reads_what_peewee_holds(app):
    """db.pool_use reads peewee's pool attributes; this pins their meaning across upgrades."""
    from avycenna.db import pool_use

    with app.app_context():
        database.close() if not database.is_closed() else None
        base_in_use, _ = pool_use()
        held, release = threading.Event(), threading.Event()

        def hold():
            with database.obj.connection_context():
                database.execute_sql("SELECT 1")
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(10)
        assert pool_use()[0] == base_in_use + 1
        release.set()
        thread.join()
        in_use, idle = pool_use()
        assert in_use == base_in_use and idle >= 1


def test_no_person_and_no_id_in_any_label(app, client, make_user, token_for, key_for, admin_key):
    """Exercise the API with people and patients, then scrape: nothing that names or
    identifies them appears anywhere in the output."""
    member = make_user("member", email="ursula.vantreeck@example.test", name="Ursula Vantreeck")
    headers = token_for(member)
    r = client.post("/api/v1/patients", headers=headers, json={
        "name": "Wilhelmina Quarrington", "date_of_birth": "1970-03-04", "relationship": "self"})
    patient_id = r.get_json()["id"]
    client.get(f"/api/v1/patients/{patient_id}", headers=headers)
    client.get(f"/api/v1/patients/{patient_id}/access-log", headers=key_for(member))
    client.patch(f"/api/v1/patients/{patient_id}", headers=headers, json={"name": "Wilhelmina Q."})
    client.post("/api/v1/grants", headers=token_for(make_user("clinician")),
                json={"email": member.email, "scopes": ["wearables:read"]})
    client.post("/api/v1/auth/login", json={"email": member.email, "password": "wrong-password"})
    client.get(f"/api/v1/patients/{patient_id}?name=Wilhelmina", headers=headers)
    body = client.get("/metrics", headers=admin_key).get_data(as_text=True)
    assert "/api/v1/patients/<string:patient_id>" in body
    for secret in (patient_id, member.id, member.email, "Ursula", "Vantreeck", "Wilhelmina", "Quarrington",
                   "1970-03-04", "example.test"):
        assert secret not in body, secret
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body)
    assert not re.search(r"\b(usr|key|grt|enc|msg|inv|sub|evt|whe|whd|imp|exp)_[A-Za-z0-9]{6,}", body)


def test_two_server_processes_add_up_in_multiprocess_mode(app, app_config, database_url, make_user, key_for,
                                                         tmp_path):
    """PROMETHEUS_MULTIPROC_DIR shared by two real `python app.py` processes: a scrape of either
    counts the requests both answered."""
    key = key_for(make_user("admin"))
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "DATABASE_URL": database_url,
           "AVYCENNA_SECRET_KEY": app_config["SECRET_KEY"], "AVYCENNA_QUEUE_NAME": app_config["QUEUE_NAME"]}
    servers = []
    try:
        for n in range(2):
            port = free_port()
            servers.append((start_server(tmp_path / "instance", port, env), f"http://127.0.0.1:{port}"))
        (first, one), (second, two) = servers
        with requests.Session() as http:
            for base, times in ((one, 3), (two, 4)):
                for _ in range(times):
                    assert http.get(base + "/api/v1/auth/me", timeout=10).status_code == 401
            scrapes = [http.get(base + "/metrics", headers=key, timeout=10) for base in (one, two)]
    finally:
        for proc, _ in servers:
            stop(proc)
    for scrape in scrapes:
        assert scrape.status_code == 200
        found = {}
        for family in text_string_to_metric_families(scrape.text):
            for s in family.samples:
                found[(s.name, frozenset(s.labels.items()))] = s.value
        assert value(found, "avycenna_http_requests_total", route="/api/v1/auth/me", method="GET", status="401") == 7
        assert value(found, "avycenna_auth_failures_total", route="/api/v1/auth/me", caller="anonymous") == 7
        assert value(found, "avycenna_http_request_duration_seconds_count",
                     route="/api/v1/auth/me", method="GET") == 7
    assert list(shared.glob("counter_*.db")), "the processes wrote no multiprocess files"
