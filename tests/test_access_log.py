"""The audit log as the account holder sees it (access-log) and as admins query it."""
from datetime import datetime

import pytest
import time_machine

from tests.factories import make_patient


@pytest.fixture
def setting(app, make_user, key_for):
    holder = make_user("member", email="kim@example.test")
    dr = make_user("clinician", name="Dr. Who")
    admin = make_user("admin")
    patient = make_patient(app, holder)
    return {"holder": holder, "dr": dr, "patient": patient, "kim": key_for(holder), "drh": key_for(dr),
            "admin": key_for(admin)}


def share_and_read(client, s):
    grant = client.post("/api/v1/grants", headers=s["drh"],
                        json={"email": "kim@example.test", "scopes": ["wearables"]}).get_json()
    client.post(f"/api/v1/grants/{grant['id']}/accept", headers=s["kim"], json={"patient_id": str(s["patient"].id)})
    client.get(f"/api/v1/patients/{s['patient'].id}/wearables?type=steps", headers=s["drh"])
    return grant


def test_holder_sees_who_read_their_patients_data(client, setting):
    share_and_read(client, setting)
    r = client.get(f"/api/v1/patients/{setting['patient'].id}/access-log", headers=setting["kim"])
    assert r.status_code == 200
    entries = r.get_json()["data"]
    assert [e["action"] for e in entries] == ["wearables.read", "grant.accept"]  # newest first
    read = entries[0]
    assert read["actor_user_id"] == setting["dr"].id and read["actor_name"] == "Dr. Who"
    assert read["actor_role"] == "clinician" and read["at"].endswith("Z")


def test_refused_attempts_show_in_the_log(client, setting):
    grant = share_and_read(client, setting)
    client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=setting["kim"])
    assert client.get(f"/api/v1/patients/{setting['patient'].id}/wearables?type=steps",
                      headers=setting["drh"]).status_code == 404
    entries = client.get(f"/api/v1/patients/{setting['patient'].id}/access-log", headers=setting["kim"]).get_json()
    latest = entries["data"][0]
    assert (latest["action"], latest["outcome"], latest["actor_user_id"]) == (
        "patient.access", "denied", setting["dr"].id)


def test_access_log_is_for_the_owner_only(client, setting):
    share_and_read(client, setting)
    r = client.get(f"/api/v1/patients/{setting['patient'].id}/access-log", headers=setting["drh"])
    assert r.status_code == 404 and r.get_json() == {"detail": "Grant not found or access denied."}


def test_access_log_pages(client, setting):
    for _ in range(3):
        client.get(f"/api/v1/patients/{setting['patient'].id}/wearables?type=steps", headers=setting["kim"])
    path = f"/api/v1/patients/{setting['patient'].id}/access-log?limit=2"
    first = client.get(path, headers=setting["kim"]).get_json()
    second = client.get(path + "&cursor=" + first["next_cursor"], headers=setting["kim"]).get_json()
    assert len(first["data"]) == 2 and len(second["data"]) == 1
    assert {e["id"] for e in first["data"]}.isdisjoint(e["id"] for e in second["data"])


def test_admin_filters_the_whole_log(client, setting):
    with time_machine.travel(datetime(2026, 11, 1, 12, 0)):  # ticking: events get distinct times
        grant = share_and_read(client, setting)
    with time_machine.travel(datetime(2026, 11, 2, 12, 0)):
        client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=setting["kim"])
    base = "/api/v1/admin/audit-events"
    by_dr = client.get(f"{base}?actor_user_id={setting['dr'].id}", headers=setting["admin"]).get_json()["data"]
    assert [e["action"] for e in by_dr] == ["wearables.read", "grant.request"]
    assert by_dr[0]["details"] == {"grant_id": grant["id"], "returned": 0, "type": "steps"}
    on_patient = client.get(f"{base}?patient_id={setting['patient'].id}&action=grant.revoke",
                            headers=setting["admin"]).get_json()["data"]
    assert [e["target_id"] for e in on_patient] == [grant["id"]]
    window = client.get(f"{base}?since=2026-11-02T00:00:00Z&until=2026-11-03T00:00:00Z",
                        headers=setting["admin"]).get_json()["data"]
    assert [e["action"] for e in window] == ["grant.revoke"]
    assert client.get(base, headers=setting["drh"]).status_code == 403


def test_the_log_has_no_way_to_change_or_delete_events(client, app, setting):
    share_and_read(client, setting)
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule or "access-log" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    from avycenna.audit import service
    assert [name for name in dir(service) if name.startswith(("update", "delete", "remove", "edit"))] == []
