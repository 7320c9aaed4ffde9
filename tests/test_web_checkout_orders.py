"""Checkout on a 375-px phone, in every order a person may subscribe, pay once, submit, or
cancel, with clinic staff marking invoices paid: one payment per question, and the
question moves on as soon as the payment that covers it arrives.

The person acts on the pages (checkout, billing, encounter); staff mark invoices paid
through the API the admin page uses (`tests/test_web_checkout.py` drives that page).
"""
import pytest
import requests

from tests.agent_helpers import QUERY, ready_patient
from tests.web_fixtures import no_horizontal_scroll, sign_in_with_password

PASSWORD = "correct horse battery"


class Journey:
    def __init__(self, live_server, phone, app, make_user, key_for):
        self.url, self.phone = live_server.url, phone
        member = make_user(email="pat@example.test", password=PASSWORD)
        self.member, self.admin = key_for(member), key_for(make_user(role="admin"))
        self.patient = ready_patient(app.test_client(), self.member, self.admin)
        opened = self.api("POST", "/api/v1/agent/query", None, json={"query": QUERY})
        self.encounter_id, self.token = opened["encounter_id"], opened["encounter_token"]
        sign_in_with_password(phone, "pat@example.test", PASSWORD)
        phone.wait_for_url("**/account")
        phone.goto(opened["checkout_url"])
        phone.check(f"input[name=patient][value='{self.patient}']")
        phone.click("#step-patient button[type=submit]")
        phone.wait_for_selector("#step-submit")
        self.checkout_url = opened["checkout_url"]

    def api(self, method, path, headers, **kwargs):
        r = requests.request(method, self.url + path, headers=headers or {}, timeout=10, **kwargs)
        assert r.status_code < 300, r.text
        return r.json()

    # What the person does on the pages --------------------------------------------------
    def subscribe(self):
        """On the checkout page before submitting, else on the billing page."""
        if "/checkout/" in self.phone.url and self.phone.locator("#step-payment").count():
            self.phone.click("#step-payment button:has-text('Monthly')")
        else:
            self.phone.goto("/account/billing")
            self.phone.click("button:has-text('Monthly')")
        self.phone.wait_for_selector("text=Subscribed.")

    def submit(self):
        self.phone.goto(self.checkout_url)
        self.phone.click("#submit-checkout")
        self.phone.wait_for_selector("h1:has-text('Checkout complete'), h1:has-text('Sent to the clinic')")

    def cancel_plan(self):
        self.phone.goto("/account/billing")
        self.phone.click("button:has-text('Cancel subscription')")
        self.phone.wait_for_selector("text=Subscription cancelled.")

    def cancel_question(self):
        self.phone.goto(f"/account/encounters/{self.encounter_id}")
        self.phone.click("button:has-text('Cancel this question')")
        self.phone.wait_for_selector("text=Cancelled.")

    # What clinic staff do ------------------------------------------------------------------
    def pay(self, kind):
        open_ones = [i for i in self.invoices() if i["kind"] == kind and i["status"] == "open"]
        assert len(open_ones) == 1, self.invoices()
        self.api("POST", f"/api/v1/admin/invoices/{open_ones[0]['id']}/mark-paid", self.admin)

    def pay_plan(self):
        self.pay("subscription")

    def pay_once(self):
        self.pay("encounter")

    # What we check -------------------------------------------------------------------------
    def invoices(self):
        return self.api("GET", "/api/v1/invoices", self.member)["data"]

    def status(self):
        return self.api("GET", f"/api/v1/agent/encounters/{self.encounter_id}",
                        {"Authorization": "Bearer " + self.token})["status"]

    def used(self):
        return self.api("GET", "/api/v1/subscription", self.member)["encounters_used"]


ORDERS = {
    # steps, then: encounter status, {invoice kind: statuses}, plan encounters used (None: no plan)
    "subscribe-submit-pay_plan": (["subscribe", "submit", "pay_plan"], "submitted",
                                  {"subscription": ["paid"]}, 1),
    "subscribe-pay_plan-submit": (["subscribe", "pay_plan", "submit"], "submitted", {"subscription": ["paid"]}, 1),
    "submit-pay_once": (["submit", "pay_once"], "submitted", {"encounter": ["paid"]}, None),
    "submit-subscribe-pay_plan": (["submit", "subscribe", "pay_plan"], "submitted",
                                  {"encounter": ["void"], "subscription": ["paid"]}, 1),
    "submit-subscribe-pay_once-pay_plan": (["submit", "subscribe", "pay_once", "pay_plan"], "submitted",
                                           {"encounter": ["paid"], "subscription": ["paid"]}, 0),
    "subscribe-submit-cancel_plan-pay_once": (["subscribe", "submit", "cancel_plan", "pay_once"], "submitted",
                                              {"encounter": ["paid"], "subscription": ["void"]}, None),
    "subscribe-submit-cancel_question-pay_plan": (["subscribe", "submit", "cancel_question", "pay_plan"],
                                                  "cancelled", {"subscription": ["paid"]}, 0),
    "submit-cancel_question": (["submit", "cancel_question"], "cancelled", {"encounter": ["void"]}, None),
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_checkout_order_on_a_phone(order, app, live_server, phone, make_user, key_for):
    steps, status, invoices, used = ORDERS[order]
    journey = Journey(live_server, phone, app, make_user, key_for)
    for step in steps:
        getattr(journey, step)()
    assert journey.status() == status
    kinds = {}
    for invoice in journey.invoices():
        kinds.setdefault(invoice["kind"], []).append(invoice["status"])
    assert kinds == invoices
    if used is not None:
        assert journey.used() == used
    phone.goto(journey.checkout_url)  # what the person reads on the link afterwards
    heading = phone.inner_text("h1")
    assert heading == {"submitted": "Sent to the clinic", "cancelled": "This question was cancelled"}[status]
    assert no_horizontal_scroll(phone)


def test_submitting_on_a_chosen_plan_waits_on_its_invoice_only(app, live_server, phone, make_user, key_for):
    journey = Journey(live_server, phone, app, make_user, key_for)
    journey.subscribe()
    journey.submit()
    done = phone.inner_text("main")
    assert "Monthly plan" in done and "One-off encounter" not in done
    assert journey.status() == "awaiting_checkout"
    journey.pay_plan()
    phone.reload()
    assert phone.inner_text("h1") == "Sent to the clinic"
