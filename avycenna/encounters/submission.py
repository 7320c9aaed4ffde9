"""When an encounter may be submitted: the preconditions, in the agent guide's order.

One function decides for every path: the agent's query (one-call submission),
programmatic checkout, an admin marking a one-off invoice paid, and consent or
ID approval arriving after a person completed checkout.
"""
from avycenna import signals
from avycenna.audit.service import record
from avycenna.billing.service import payment_for
from avycenna.clock import utcnow
from avycenna.db import locked, transaction
from avycenna.encounters import lifecycle
from avycenna.encounters.coverage import invoice_to_pay, void_one_off, waiting_encounters
from avycenna.encounters.models import Encounter
from avycenna.patients.service import has_current_consent

REASONS = ("patient_required", "patient_not_owned", "telehealth_consent_required",
           "patient_not_id_verified", "subscription_required", "rate_limit_reached")
PAYMENT_REASONS = ("subscription_required", "rate_limit_reached")


def pending_reasons(encounter, patient_not_owned=False, lock=False):
    """Every failing precondition, in REASONS order, and how payment would be made."""
    failing = set()
    patient = encounter.patient if encounter.patient_id else None
    if patient is None or patient.archived_at is not None or patient.account_id != encounter.account_id:
        failing.add("patient_required")
        patient = None
    if patient_not_owned:
        failing.add("patient_not_owned")
    if patient is not None and not has_current_consent(patient):
        failing.add("telehealth_consent_required")
    if patient is not None and patient.id_verification_status != "verified":
        failing.add("patient_not_id_verified")
    source, reason = payment_for(encounter, lock=lock)
    if reason:
        failing.add(reason)
    return [r for r in REASONS if r in failing], source


def try_submit(encounter, patient_not_owned=False):
    """Submit when nothing is pending; returns the pending reasons. Call in a write transaction."""
    if encounter.status != "awaiting_checkout":
        return []
    reasons, source = pending_reasons(encounter, patient_not_owned, lock=True)
    if not reasons:
        lifecycle.transition(encounter, "submitted", payment=source)
        if source == "subscription":
            void_one_off(encounter)  # the plan pays: a one-off made before subscribing is not owed
        record("encounter.submit", patient_id=encounter.patient_id, target_type="encounter",
               target_id=encounter.id, payment=source)
    return reasons


@transaction
def release(encounter_id):
    """Submit a checked-out encounter whose last blocker (payment, consent, ID) just cleared."""
    encounter = Encounter.get_or_none(Encounter.id == encounter_id)
    if encounter is None or encounter.checked_out_at is None:
        return []
    if lifecycle.expire_if_due(encounter):
        return []
    return try_submit(encounter)


def release_checked_out(patient_id):
    """After consent or ID approval: release this patient's checked-out encounters."""
    ids = [e.id for e in Encounter.select(Encounter.id).where(
        (Encounter.patient == patient_id) & (Encounter.status == "awaiting_checkout")
        & Encounter.checked_out_at.is_null(False) & (Encounter.token_expires_at > utcnow()))]
    return [encounter_id for encounter_id in ids if not release(encounter_id)]


def settle_waiting(account_id=None):
    """Move on every waiting encounter of the account (every account when None).

    Each one is submitted when nothing is pending any more (a paid plan covers it, its
    allowance permitting); one still waiting on payment gets the invoice that pays for
    it (a one-off when the plan is used up or was cancelled). Returns the ids submitted.
    Called after a subscription invoice is paid, after a subscription is cancelled, and
    by `flask --app app housekeeping`.
    """
    submitted = []
    for encounter_id in waiting_encounters(account_id):
        if settle_one(encounter_id, release(encounter_id)):
            submitted.append(encounter_id)
    return submitted


@transaction
def settle_one(encounter_id, reasons):
    """After `release`: True when the encounter went; else make sure its invoice exists.

    Reads the encounter under a row lock, so two settles never make two invoices."""
    encounter = locked(Encounter.select().where(Encounter.id == encounter_id)).first()
    if encounter.status == "submitted":
        return True
    if encounter.status == "awaiting_checkout":
        invoice_to_pay(encounter, reasons)
    return False


@signals.invoice_paid.connect
def release_paid(invoice):
    """A paid invoice moves on what it pays for: its one-off encounter, or every encounter of
    the account that waited on the subscription."""
    if invoice.encounter_id:
        release(invoice.encounter_id)
    if invoice.subscription_id:
        settle_waiting(invoice.account_id)


@signals.subscription_cancelled.connect
def settle_after_cancel(account_id):
    settle_waiting(account_id)


@signals.patient_cleared.connect
def release_cleared(patient):
    release_checked_out(patient_id=patient.id)
