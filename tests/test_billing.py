"""Plans, subscriptions, invoices and the manual payment provider."""
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.agent_helpers import ask, ready_patient, subscribe


@pytest.fixture
def people(make_user, token_for):
    return {"member": token_for(make_user()), "stranger": token_for(make_user()),
            "clinician": token_for(make_user(role="clinician")), "admin": token_for(make_user(role="admin"))}


def test_plans_from_config(client):
    body = client.get("/api/v1/plans").get_json()
    assert body["next_cursor"] is None
    plans = body["data"]
    assert plans[0] == {"id": "monthly", "name": "Monthly", "price": 2900, "currency": "usd",
                        "interval": "month", "included_encounters": 3}


def test_subscribe_pending_then_active_when_paid(client, people):
    r = client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=people["member"])
    assert r.status_code == 201
    sub = r.get_json()
    assert sub["status"] == "pending" and sub["id"].startswith("sub_")
    invoice = sub["open_invoice"]
    assert invoice["amount"] == 2900 and invoice["currency"] == "usd" and invoice["kind"] == "subscription"
    assert client.post("/api/v1/subscription", json={"plan": "yearly"}, headers=people["member"]).status_code == 409
    assert client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid",
                       headers=people["member"]).status_code == 403
    assert client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid",
                       headers=people["clinician"]).status_code == 403
    paid = client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid", headers=people["admin"])
    assert paid.get_json()["status"] == "paid" and paid.get_json()["paid_at"].endswith("Z")
    assert client.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid", headers=people["admin"]).status_code == 409
    active = client.get("/api/v1/subscription", headers=people["member"]).get_json()
    assert active["status"] == "active" and active["open_invoice"] is None
    assert active["encounters_included"] == 3 and active["encounters_used"] == 0


def test_unknown_plan_is_422(client, people):
    r = client.post("/api/v1/subscription", json={"plan": "gold"}, headers=people["member"])
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "plan"]


def test_cancel_voids_open_invoice_and_allows_a_new_subscription(client, people):
    sub = client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=people["member"]).get_json()
    r = client.delete("/api/v1/subscription", headers=people["member"])
    assert r.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/invoices/{sub['open_invoice']['id']}", headers=people["member"]).get_json()[
        "status"] == "void"
    assert client.get("/api/v1/subscription", headers=people["member"]).status_code == 404
    assert client.delete("/api/v1/subscription", headers=people["member"]).status_code == 404
    assert client.post("/api/v1/subscription", json={"plan": "yearly"}, headers=people["member"]).status_code == 201


def test_invoices_are_private(client, people):
    sub = client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=people["member"]).get_json()
    inv = sub["open_invoice"]["id"]
    assert client.get(f"/api/v1/invoices/{inv}", headers=people["member"]).status_code == 200
    assert client.get(f"/api/v1/invoices/{inv}", headers=people["stranger"]).status_code == 404
    assert client.get("/api/v1/invoices", headers=people["stranger"]).get_json()["data"] == []
    assert client.get("/api/v1/subscription", headers=people["stranger"]).status_code == 404
    assert client.post("/api/v1/admin/invoices/inv_nope/mark-paid", headers=people["admin"]).status_code == 404
    assert client.get("/api/v1/invoices").status_code == 401


def test_allowance_counts_submitted_encounters_per_period(client, make_user, key_for):
    member, admin, doc = key_for(make_user()), key_for(make_user(role="admin")), key_for(make_user(role="clinician"))
    with time_machine.travel(datetime(2026, 1, 31, 12, 0, 0), tick=False) as clock:
        subscribe(client, member, admin)
        sub = client.get("/api/v1/subscription", headers=member).get_json()
        assert sub["current_period_end"] == "2026-02-28T12:00:00Z"  # month ends clamp
        pid = ready_patient(client, member, admin)
        reasons = [ask(client, member, patient_id=pid).get_json()["auto_submit"]["pending_reasons"]
                   for _ in range(4)]
        assert reasons == [[], [], [], ["rate_limit_reached"]]
        assert client.get("/api/v1/subscription", headers=member).get_json()["encounters_used"] == 3
        clock.move_to(datetime(2026, 2, 28, 12, 0, 1))
        sub = client.get("/api/v1/subscription", headers=member).get_json()
        client.post(f"/api/v1/admin/invoices/{sub['open_invoice']['id']}/mark-paid", headers=admin)
        clock.shift(timedelta(hours=2))  # a new period, a new hour of agent budget
        assert ask(client, member, patient_id=pid).get_json()["auto_submit"]["pending_reasons"] == []


def test_period_rolls_over_to_past_due_with_a_renewal_invoice(app, client, make_user, key_for):
    user, admin = make_user(), make_user(role="admin")
    member, admin_h = key_for(user), key_for(admin)
    with time_machine.travel(datetime(2026, 1, 31, 12, 0, 0), tick=False) as clock:
        subscribe(client, member, admin_h)
        clock.move_to(datetime(2026, 2, 28, 12, 0, 1))
        sub = client.get("/api/v1/subscription", headers=member).get_json()
        assert sub["status"] == "past_due" and sub["open_invoice"]["description"] == "Monthly plan renewal"
        client.post(f"/api/v1/admin/invoices/{sub['open_invoice']['id']}/mark-paid", headers=admin_h)
        renewed = client.get("/api/v1/subscription", headers=member).get_json()
    assert renewed["status"] == "active"
    assert renewed["current_period_start"] == "2026-02-28T12:00:01Z"
    assert renewed["current_period_end"] == "2026-03-28T12:00:01Z"


def test_add_interval():
    from avycenna.billing.plans import add_interval

    assert add_interval(datetime(2024, 1, 31), "month") == datetime(2024, 2, 29)
    assert add_interval(datetime(2024, 2, 29), "year") == datetime(2025, 2, 28)
    assert add_interval(datetime(2024, 12, 15), "month") == datetime(2025, 1, 15)
    assert add_interval(datetime(2024, 1, 1), "week") == datetime(2024, 1, 8)


def test_admins_list_every_accounts_invoices_by_status(client, people):
    client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=people["member"])
    client.post("/api/v1/subscription", json={"plan": "yearly"}, headers=people["stranger"])
    assert client.get("/api/v1/admin/invoices", headers=people["member"]).status_code == 403
    page = client.get("/api/v1/admin/invoices?status=open&limit=1", headers=people["admin"]).get_json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/v1/admin/invoices?status=open&cursor={page['next_cursor']}",
                      headers=people["admin"]).get_json()
    assert {i["amount"] for i in page["data"] + rest["data"]} == {2900, 29000}
    assert client.get("/api/v1/admin/invoices?status=paid", headers=people["admin"]).get_json()["data"] == []
