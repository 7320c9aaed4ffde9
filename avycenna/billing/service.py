"""Subscriptions, invoices and the per-period encounter allowance (no HTTP here)."""
from flask import current_app

from avycenna import signals
from avycenna.audit.service import record
from avycenna.billing.models import Invoice, Subscription
from avycenna.billing.plans import add_interval, find_plan
from avycenna.clock import utcnow
from avycenna.db import locked, transaction, write_transaction
from avycenna.errors import fail, not_found, validation_error
from avycenna.pagination import paginate

LIVE = ("pending", "active", "past_due")  # a subscription that is not cancelled


def current_subscription(account_id, lock=False):
    """The account's subscription that is not cancelled, rolled forward lazily, or None."""
    query = Subscription.select().where((Subscription.account == account_id)
                                        & Subscription.status.in_(LIVE))
    subscription = (locked(query) if lock else query).first()
    if subscription is not None and subscription.status == "active" \
            and utcnow() >= subscription.current_period_end:
        _start_renewal(subscription)
    return subscription


def _start_renewal(subscription):
    """The period ended: past due until the renewal invoice is paid."""
    plan = find_plan(subscription.plan)
    with write_transaction():
        updated = (Subscription.update(status="past_due")
                   .where((Subscription.id == subscription.id) & (Subscription.status == "active"))
                   .execute())
        if updated and plan:
            _invoice(subscription.account_id, "subscription", f"{plan['name']} plan renewal",
                     plan["price"], plan["currency"], subscription=subscription)
    subscription.status = "past_due"


def _invoice(account_id, kind, description, amount, currency, subscription=None, encounter=None):
    return Invoice.create(account=account_id, kind=kind, description=description, amount=amount,
                          currency=currency, subscription=subscription, encounter=encounter)


def used_allowance(subscription):
    from avycenna.encounters.models import Encounter

    return (Encounter.select().where(
        (Encounter.account == subscription.account_id) & (Encounter.payment == "subscription")
        & (Encounter.submitted_at >= subscription.current_period_start)
        & (Encounter.submitted_at < subscription.current_period_end)).count())


def payment_for(encounter, lock=False):
    """(source, reason): how the encounter can be paid for, or why it cannot.

    A paid one-off invoice → ("invoice", None); an active subscription with allowance
    left → ("subscription", None); otherwise (None, "subscription_required") or
    (None, "rate_limit_reached") when the period's included encounters are used up.
    """
    if encounter.account_id is None:
        return None, "subscription_required"
    if encounter.payment == "invoice" or paid_encounter_invoice(encounter) is not None:
        return "invoice", None
    subscription = current_subscription(encounter.account_id, lock=lock)
    if subscription is None or subscription.status != "active":
        return None, "subscription_required"
    plan = find_plan(subscription.plan) or {"included_encounters": 0}
    if used_allowance(subscription) >= plan["included_encounters"]:
        return None, "rate_limit_reached"
    return "subscription", None


def paid_encounter_invoice(encounter):
    return Invoice.select().where((Invoice.encounter == encounter.id) & (Invoice.status == "paid")).first()


def encounter_invoice(encounter):
    """The open (or paid) one-off invoice for the encounter, created when missing."""
    existing = (Invoice.select().where((Invoice.encounter == encounter.id) & (Invoice.status != "void"))
                .first())
    if existing is not None:
        return existing
    invoice = _invoice(encounter.account_id, "encounter", "One-off encounter",
                       current_app.config["ENCOUNTER_PRICE"], current_app.config["BILLING_CURRENCY"],
                       encounter=encounter)
    record("invoice.create", target_type="invoice", target_id=invoice.id, kind="encounter")
    return invoice


@transaction
def subscribe(user, plan_id):
    """A pending subscription and its first invoice; active once the invoice is paid."""
    from avycenna.auth.models import User

    plan = find_plan(plan_id)
    if plan is None:
        validation_error(["body", "plan"], f"Unknown plan {plan_id!r}.", "value_error.plan")
    locked(User.select(User.id).where(User.id == user.id)).first()  # one subscribe per account at a time
    if current_subscription(user.id, lock=True) is not None:
        fail(409, "This account already has a subscription; cancel it first.")
    subscription = Subscription.create(account=user.id, plan=plan["id"])
    _invoice(user.id, "subscription", f"{plan['name']} plan", plan["price"], plan["currency"],
             subscription=subscription)
    record("subscription.create", target_type="subscription", target_id=subscription.id,
           plan=plan["id"])
    return subscription


def own_subscription(user, lock=False):
    subscription = current_subscription(user.id, lock=lock)
    if subscription is None:
        not_found("No subscription.")
    return subscription


def cancel_subscription(user):
    """Cancel at once; open invoices of the subscription are voided, and encounters that
    waited on it get a one-off invoice instead (`signals.subscription_cancelled`)."""
    subscription = _cancel(user)
    signals.subscription_cancelled.send(user.id)
    return subscription


def list_invoices(user, limit, cursor, status=None):
    query = Invoice.select().where(Invoice.account == user.id)
    if status:
        query = query.where(Invoice.status == status)
    return paginate(query, (Invoice.created_at, Invoice.id), limit, cursor, descending=True)


def all_invoices(limit, cursor, status=None):
    """Every account's invoices, newest first (admins: the manual payment provider's work list)."""
    query = Invoice.select()
    if status:
        query = query.where(Invoice.status == status)
    return paginate(query, (Invoice.created_at, Invoice.id), limit, cursor, descending=True)


@transaction
def _cancel(user):
    subscription = own_subscription(user, lock=True)
    subscription.status, subscription.cancelled_at = "cancelled", utcnow()
    Subscription.update(status="cancelled", cancelled_at=subscription.cancelled_at).where(
        (Subscription.id == subscription.id) & Subscription.status.in_(LIVE)).execute()
    Invoice.update(status="void").where((Invoice.subscription == subscription.id)
                                        & (Invoice.status == "open")).execute()
    record("subscription.cancel", target_type="subscription", target_id=subscription.id)
    return subscription


def own_invoice(user, invoice_id):
    invoice = Invoice.get_or_none((Invoice.id == invoice_id) & (Invoice.account == user.id))
    if invoice is None:
        not_found("Invoice not found.")
    return invoice


def mark_paid(admin, invoice_id):
    """Manual payment: activates the subscription or releases the one-off encounter.

    A paid subscription invoice moves on every encounter of the account that waited on
    it, each counted against the plan's allowance (`signals.invoice_paid`).
    """
    invoice = _pay(admin, invoice_id)
    signals.invoice_paid.send(invoice)
    return invoice


@transaction
def _pay(admin, invoice_id):
    """Open → paid, a conditional UPDATE: of two racing "mark paid" exactly one wins."""
    now = utcnow()
    paid = (Invoice.update(status="paid", paid_at=now, paid_by=admin.id)
            .where((Invoice.id == invoice_id) & (Invoice.status == "open")).execute())
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        not_found("Invoice not found.")
    if not paid:
        fail(409, f"Invoice is {invoice.status}; only open invoices can be marked paid.")
    record("invoice.mark_paid", target_type="invoice", target_id=invoice.id, kind=invoice.kind)
    if invoice.subscription_id:
        _activate(invoice.subscription_id, now)
    return invoice


def _activate(subscription_id, now):
    """A paid subscription invoice starts the next period (read under a row lock)."""
    subscription = locked(Subscription.select().where(Subscription.id == subscription_id)).first()
    plan = find_plan(subscription.plan)
    if subscription.status == "cancelled" or plan is None:
        return
    start = max(now, subscription.current_period_end or now)
    Subscription.update(status="active", current_period_start=start,
                        current_period_end=add_interval(start, plan["interval"])).where(
        Subscription.id == subscription.id).execute()
    record("subscription.activate", target_type="subscription", target_id=subscription.id)
