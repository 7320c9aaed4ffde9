"""Shared steps for the agent, encounter, checkout and billing tests."""
from avycenna.db import database

QUERY = "I have had a dry cough for three weeks, worse at night, no fever. " * 10  # 660 chars
CONSENT = {"version": "2026-01"}


def ask(client, headers=None, **body):
    body.setdefault("query", QUERY)
    return client.post("/api/v1/agent/query", json=body, headers=headers or {})


def add_patient(client, headers, relationship="self", name="Pat Example"):
    r = client.post("/api/v1/patients", json={"name": name, "date_of_birth": "1980-01-02",
                                              "relationship": relationship}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def ready_patient(client, headers, staff_headers, relationship="self", consent=True, verify=True):
    """A patient with (optionally) consent and verified ID."""
    pid = add_patient(client, headers, relationship)
    if consent:
        assert client.post(f"/api/v1/patients/{pid}/consent", json=CONSENT, headers=headers).status_code == 200
    if verify:
        r = client.post(f"/api/v1/patients/{pid}/id-verification",
                        json={"document_type": "passport", "document_number": "P1234567"}, headers=headers)
        assert r.status_code == 201
        assert client.post(f"/api/v1/patients/{pid}/id-verification/approve", json={},
                           headers=staff_headers).status_code == 200
    return pid


def subscribe(client, headers, admin_headers, plan="monthly"):
    r = client.post("/api/v1/subscription", json={"plan": plan}, headers=headers)
    assert r.status_code == 201, r.get_json()
    invoice = r.get_json()["open_invoice"]
    assert client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid",
                       headers=admin_headers).status_code == 200
    return r.get_json()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def db_read(app, fn):
    with app.app_context(), database.obj.connection_context():
        return fn()
