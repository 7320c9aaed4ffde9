"""A person pays once for one question, in whatever order they subscribe, pay, submit or cancel.

Through the API alone (the pages call the same services; `test_web_checkout_orders.py`
walks the same orders in a browser on a phone).
"""
import pytest

from tests.agent_helpers import ask, ready_patient


class Person:
    """A member with a ready patient, and the clinic's admin who marks invoices paid."""

    def __init__(self, client, member, admin, clinician):
        self.client, self.member, self.admin = client, member, admin
        self.patient = ready_patient(client, member, admin)

    def open_question(self):
        return ask(self.client).get_json()["encounter_token"]

    def submit(self, token):
        r = self.client.post("/api/v1/checkout", json={"encounter_token": token, "patient_id": self.patient},
                             headers=self.member)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def subscribe(self, plan="monthly"):
        r = self.client.post("/api/v1/subscription", json={"plan": plan}, headers=self.member)
        assert r.status_code == 201, r.get_json()
        return r.get_json()["open_invoice"]["id"]

    def mark_paid(self, invoice_id, expect=200):
        r = self.client.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", headers=self.admin)
        assert r.status_code == expect, r.get_json()

    def cancel_subscription(self):
        assert self.client.delete("/api/v1/subscription", headers=self.member).status_code == 200

    def cancel(self, encounter_id):
        r = self.client.post(f"/api/v1/encounters/{encounter_id}/cancel", headers=self.member)
        assert r.status_code == 200, r.get_json()

    def encounter(self, encounter_id):
        return self.client.get(f"/api/v1/encounters/{encounter_id}", headers=self.member).get_json()

    def invoices(self):
        """{invoice kind: [statuses]} of every invoice of the account."""
        kinds = {}
        for invoice in self.client.get("/api/v1/invoices", headers=self.member).get_json()["data"]:
            kinds.setdefault(invoice["kind"], []).append(invoice["status"])
        return kinds

    def used(self):
        return self.client.get("/api/v1/subscription", headers=self.member).get_json()["encounters_used"]


@pytest.fixture
def person(client, make_user, key_for):
    return Person(client, key_for(make_user()), key_for(make_user(role="admin")),
                  key_for(make_user(role="clinician")))


def test_subscribe_submit_pay_plan(person):
    """The issue's report: one invoice (the plan), and paying it sends the question on."""
    plan_invoice = person.subscribe()
    result = person.submit(person.open_question())
    assert result["pending_reasons"] == ["subscription_required"]
    assert result["invoice"]["id"] == plan_invoice and result["invoice"]["kind"] == "subscription"
    assert person.invoices() == {"subscription": ["open"]}
    person.mark_paid(plan_invoice)
    encounter = person.encounter(result["encounter_id"])
    assert encounter["status"] == "submitted" and encounter["payment"] == "subscription"
    assert person.used() == 1


def test_subscribe_pay_plan_then_submit(person):
    person.mark_paid(person.subscribe())
    result = person.submit(person.open_question())
    assert result["submitted"] and result["invoice"] is None
    assert person.invoices() == {"subscription": ["paid"]} and person.used() == 1


def test_pay_once(person):
    result = person.submit(person.open_question())
    assert result["pending_reasons"] == ["subscription_required"] and result["invoice"]["kind"] == "encounter"
    person.mark_paid(result["invoice"]["id"])
    assert person.encounter(result["encounter_id"])["payment"] == "invoice"
    assert person.invoices() == {"encounter": ["paid"]}


def test_submit_then_subscribe_and_pay_plan_voids_the_one_off(person):
    result = person.submit(person.open_question())
    one_off = result["invoice"]["id"]
    person.mark_paid(person.subscribe())
    encounter = person.encounter(result["encounter_id"])
    assert encounter["status"] == "submitted" and encounter["payment"] == "subscription"
    assert person.invoices() == {"subscription": ["paid"], "encounter": ["void"]}
    person.mark_paid(one_off, expect=409)  # nobody can take the second payment
    assert person.used() == 1


def test_submit_subscribe_then_pay_once_leaves_the_allowance(person):
    result = person.submit(person.open_question())
    plan_invoice = person.subscribe()
    person.mark_paid(result["invoice"]["id"])
    assert person.encounter(result["encounter_id"])["payment"] == "invoice"
    person.mark_paid(plan_invoice)
    assert person.used() == 0
    assert person.encounter(result["encounter_id"])["payment"] == "invoice"


def test_subscribe_submit_cancel_plan_invoices_the_question_once(person):
    person.subscribe()
    result = person.submit(person.open_question())
    person.cancel_subscription()
    assert person.invoices() == {"subscription": ["void"], "encounter": ["open"]}
    again = person.client.get(f"/api/v1/encounters/{result['encounter_id']}", headers=person.member).get_json()
    assert again["status"] == "awaiting_checkout"
    one_off = [i for i in person.client.get("/api/v1/invoices", headers=person.member).get_json()["data"]
               if i["kind"] == "encounter"][0]
    person.mark_paid(one_off["id"])
    assert person.encounter(result["encounter_id"])["status"] == "submitted"


def test_subscribe_submit_cancel_question_then_pay_plan(person):
    plan_invoice = person.subscribe()
    result = person.submit(person.open_question())
    person.cancel(result["encounter_id"])
    person.mark_paid(plan_invoice)
    assert person.encounter(result["encounter_id"])["status"] == "cancelled"
    assert person.used() == 0


def test_cancelled_question_voids_its_one_off(person):
    result = person.submit(person.open_question())
    person.cancel(result["encounter_id"])
    assert person.invoices() == {"encounter": ["void"]}
    person.mark_paid(result["invoice"]["id"], expect=409)


def test_plan_paid_releases_as_many_as_it_includes_and_invoices_the_rest(person):
    plan_invoice = person.subscribe()  # monthly: 3 included
    results = [person.submit(person.open_question()) for _ in range(4)]
    assert {r["invoice"]["id"] for r in results} == {plan_invoice}
    person.mark_paid(plan_invoice)
    statuses = [person.encounter(r["encounter_id"])["status"] for r in results]
    assert statuses == ["submitted", "submitted", "submitted", "awaiting_checkout"]
    assert person.used() == 3
    assert person.invoices() == {"subscription": ["paid"], "encounter": ["open"]}
    last = person.client.get(f"/api/v1/agent/encounters/{results[3]['encounter_id']}",
                             headers=person.member).get_json()
    assert last["pending_reasons"] == ["rate_limit_reached"]


def test_housekeeping_releases_an_encounter_whose_plan_was_paid(app, person, runner):
    """A database from before this fix: the plan is paid but the question still waits."""
    from avycenna.billing.models import Invoice, Subscription
    from avycenna.db import database

    result = person.submit(person.open_question())
    with app.app_context(), database.obj.connection_context():
        Invoice.update(status="void").where(Invoice.kind == "encounter").execute()
    person.mark_paid(person.subscribe())  # settles already; put the stranded state back to check the sweep
    with app.app_context(), database.obj.connection_context():
        from avycenna.encounters.models import Encounter

        Encounter.update(status="awaiting_checkout", payment=None, submitted_at=None).where(
            Encounter.id == result["encounter_id"]).execute()
        assert Subscription.select().where(Subscription.status == "active").count() == 1
    out = runner.invoke(args=["housekeeping"])
    assert out.exit_code == 0 and "encounters released: 1" in out.output
    assert person.encounter(result["encounter_id"])["status"] == "submitted"
    assert runner.invoke(args=["housekeeping"]).output.count("encounters released: 0") == 1
