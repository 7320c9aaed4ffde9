"""`flask --app app db copy --to URL`: a populated instance moves to the other backend whole.

On the SQLite run the copy goes to a new PostgreSQL database; on the PostgreSQL run it goes
to a new SQLite file: the same command, both directions."""
import os
import uuid
from urllib.parse import urlparse, urlunparse

import pytest

from avycenna.backups.service import take_backup
from avycenna.db import database, make_database
from tests.agent_helpers import QUERY, ask, ready_patient, subscribe
from tests.oauth_helpers import backend_token, connect
from tests.test_agent_flow import clinician_answers_and_agent_reads
from tests.test_fhir_export_access import run_export
from tests.test_web_security import sign_in

PG_BASE = os.environ.get("AVYCENNA_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
SAMPLES = 3000


def new_postgres_database():
    import psycopg2

    name = "avycopy_" + uuid.uuid4().hex[:12]
    try:
        conn = psycopg2.connect(PG_BASE, connect_timeout=3)
    except psycopg2.OperationalError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(urlparse(PG_BASE)._replace(path="/" + name))


def drop_postgres_database(url):
    import psycopg2

    conn = psycopg2.connect(PG_BASE)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
    conn.close()


def populate(app, client, make_user, token_for, key_for):
    """Rows in every table, through the API: people, keys, codes, encounters, billing, grants,
    a few thousand wearable samples, the audit log and a backup record."""
    member = make_user(email="holder@example.test", password="correct horse battery")
    assert client.post("/api/v1/auth/login", json={"email": "holder@example.test",
                                                    "password": "correct horse battery"}).status_code == 200
    sign_in(app.test_client(), "holder@example.test")  # a browser session
    clinician = make_user(role="clinician", email="dr@clinic.test", name="Dr. Chen")
    people = {"member": token_for(member), "member_key": key_for(member),
              "clinician": token_for(clinician), "admin": token_for(make_user(role="admin"))}
    client.post("/api/v1/auth/otp/send", json={"email": "someone@example.test"})
    app.config["WEBHOOK_ALLOWED_HOSTS"] = ["127.0.0.1"]  # an endpoint (its deliveries wait in the outbox)
    assert client.post("/api/v1/webhook-endpoints", headers=people["member"],
                       json={"url": "http://127.0.0.1:9/hook"}).status_code == 201
    subscribe(client, people["member"], people["admin"])
    pid = ready_patient(client, people["member"], people["admin"])
    body = client.post("/api/v1/agent/query", json={"query": QUERY,
                                                   "patient_id": pid},
                       headers={**people["member_key"], "Idempotency-Key": "copy-test-1"}).get_json()
    clinician_answers_and_agent_reads(client, people, body["encounter_id"], body["encounter_token"])
    ask(client)  # an anonymous encounter waiting for checkout
    grant = client.post("/api/v1/grants", headers=people["clinician"],
                        json={"email": "holder@example.test", "scopes": ["profile", "wearables"]}).get_json()
    assert client.post(f"/api/v1/grants/{grant['id']}/accept", headers=people["member"],
                       json={"patient_id": pid}).status_code == 200
    t0 = 1_790_000_000_000
    r = client.post(f"/api/v1/patients/{pid}/wearables", headers=people["member_key"], json={
        "source": "watch", "series": [{"type": "heart_rate", "unit": "count/min",
                                       "start": [t0 + i * 60_000 for i in range(SAMPLES)],
                                       "value": [60 + i % 30 for i in range(SAMPLES)]}]})
    assert r.status_code == 200 and r.get_json()["inserted"] == SAMPLES
    assert client.put(f"/api/v1/patients/{pid}/wearables/sources", headers=people["member"],
                      json={"priority": ["watch", "phone"]}).status_code == 200
    with open(os.path.join(os.path.dirname(__file__), "data", "apple_health_export.xml"), "rb") as fh:
        assert client.post(f"/api/v1/patients/{pid}/imports", headers=people["member"],  # queued, no worker
                           data={"file": (fh, "export.xml")}).status_code == 202
    assert client.post(f"/api/v1/patients/{pid}/imports/uploads", headers={  # a resumable upload, begun
        **people["member"], "Tus-Resumable": "1.0.0", "Upload-Length": "1000"}).status_code == 201
    run_export(app, client, people["clinician"])  # a finished bulk export and the patient it holds
    connect(client, app.test_client(), member)  # an assistant connected by OAuth (client, code, token)
    backend_token(app, client, clinician)  # a backend client's token (and its spent assertion id)
    with app.app_context(), database.obj.connection_context():
        take_backup()
    return people, pid


def readings(client, people, pid):
    """What the API answers the same people about the same data."""
    paths = {"member": ["/api/v1/patients", "/api/v1/encounters", "/api/v1/subscription", "/api/v1/invoices",
                        f"/api/v1/patients/{pid}/access-log", "/api/v1/grants/incoming",
                        f"/api/v1/patients/{pid}/wearables?type=heart_rate&limit=500"],
             "clinician": ["/api/v1/grants/outgoing", "/api/v1/encounters/assigned",
                           f"/api/v1/patients/{pid}/wearables/summary?type=heart_rate&bucket=day"
                           "&start=2026-09-20T00:00:00Z&end=2026-09-25T00:00:00Z"],
             "admin": ["/api/v1/admin/users", "/api/v1/admin/audit-events?limit=200"]}
    out = {}
    for who, urls in paths.items():
        for url in urls:
            r = client.get(url, headers=people[who])
            assert r.status_code == 200, (url, r.get_json())
            out[(who, url)] = r.get_json()
    return out


def test_copy_to_the_other_backend_keeps_every_row_and_every_answer(app, app_config, client, runner,
                                                                     make_user, token_for, key_for, tmp_path):
    from avycenna import create_app
    from avycenna.backups.copy import models

    people, pid = populate(app, client, make_user, token_for, key_for)
    before = readings(client, people, pid)
    with app.app_context(), database.obj.connection_context():
        counts = {m._meta.table_name: m.select().count() for m in models()}
    empty = [t for t, n in counts.items() if n == 0]
    assert not empty, f"the fixture should fill every table: {empty}"
    source_is_sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    target = new_postgres_database() if source_is_sqlite else "sqlite:///" + str(tmp_path / "copy.sqlite3")
    try:
        result = runner.invoke(args=["db", "copy", "--to", target, "--batch", "500"])
        assert result.exit_code == 0, result.output
        assert f"wearable_sample: {SAMPLES} rows, checksum" in result.output and "matches" in result.output

        again = runner.invoke(args=["db", "copy", "--to", target])  # into a database that now holds data
        assert again.exit_code != 0 and "not empty" in again.output

        copied = create_app({**app_config, "DATABASE_URL": target})  # same secret key: same tokens
        with copied.app_context(), database.obj.connection_context():
            assert {m._meta.table_name: m.select().count() for m in models()} == counts
        after = readings(copied.test_client(), people, pid)
        for key, value in before.items():
            if key[1].startswith("/api/v1/admin/audit-events"):  # reading again adds newer rows
                ids = {e["id"] for e in value["data"]}
                kept = [e for e in after[key]["data"] if e["id"] in ids]
                assert len(kept) > 20 and kept == value["data"][:len(kept)], key
            elif "access-log" in key[1]:
                continue
            else:
                assert after[key] == value, key
    finally:
        database.close_all() if hasattr(database.obj, "close_all") else database.close()
        database.initialize(make_database(app.config["DATABASE_URL"]))  # back to the test's database
        if source_is_sqlite:
            drop_postgres_database(target)
