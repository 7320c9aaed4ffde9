"""What pays for a checked-out encounter: one invoice per question, never two.

A person who checked out an encounter that waits on payment has exactly one way to
pay for it:

- a subscription that is not active yet (`pending`, or `past_due` with its renewal
  invoice open) covers it: no one-off invoice is made, and paying the plan's invoice
  submits the encounter (counted against the plan's allowance);
- otherwise (no subscription, its allowance used up, or it was cancelled) a one-off
  invoice for the encounter (`ENCOUNTER_PRICE`).

When the payment that covers an encounter arrives, every encounter it covers moves on
(`submission.settle_waiting`). An encounter submitted under the subscription has its open one-off
invoice (if the person made one before subscribing) voided, so nobody pays twice; a
cancelled encounter's open invoice is voided too.
"""
from avycenna.audit.service import record
from avycenna.billing.models import Invoice
from avycenna.billing.plans import find_plan
from avycenna.billing.service import current_subscription, encounter_invoice
from avycenna.encounters.models import Encounter

WAITING_SUBSCRIPTION = ("pending", "past_due")


def waiting_subscription_invoice(account_id):
    """The open invoice of the account's not-yet-active subscription whose plan includes
    encounters (paying it will cover a waiting encounter), or None."""
    subscription = current_subscription(account_id)
    if subscription is None or subscription.status not in WAITING_SUBSCRIPTION:
        return None
    plan = find_plan(subscription.plan)
    if not plan or plan["included_encounters"] < 1:
        return None
    return (Invoice.select().where((Invoice.subscription == subscription.id) & (Invoice.status == "open"))
            .order_by(Invoice.created_at.desc()).first())


def invoice_to_pay(encounter, reasons):
    """The one invoice that pays for `encounter` when payment is among `reasons`, else None.

    A waiting subscription's open invoice when it covers the encounter (only for a
    missing subscription: a plan used up needs the one-off); else the encounter's
    one-off invoice, created when missing. Call inside a write transaction.
    """
    if "subscription_required" in reasons:
        plan_invoice = waiting_subscription_invoice(encounter.account_id)
        if plan_invoice is not None and open_one_off(encounter) is None:
            return plan_invoice
    if "subscription_required" in reasons or "rate_limit_reached" in reasons:
        return encounter_invoice(encounter)
    return None


def open_one_off(encounter):
    return Invoice.get_or_none((Invoice.encounter == encounter.id) & (Invoice.status == "open"))


def void_one_off(encounter):
    """Void the encounter's open one-off invoice (a conditional update); True when one was voided."""
    invoice = open_one_off(encounter)
    if invoice is None:
        return False
    voided = (Invoice.update(status="void")
              .where((Invoice.id == invoice.id) & (Invoice.status == "open")).execute())
    if voided:
        record("invoice.void", target_type="invoice", target_id=invoice.id, kind="encounter",
               encounter_id=encounter.id)
    return bool(voided)


def waiting_encounters(account_id=None):
    """Checked-out encounters still awaiting submission, oldest checkout first."""
    query = Encounter.select(Encounter.id).where(
        (Encounter.status == "awaiting_checkout") & Encounter.checked_out_at.is_null(False))
    if account_id is not None:
        query = query.where(Encounter.account == account_id)
    return [row.id for row in query.order_by(Encounter.checked_out_at, Encounter.id)]
