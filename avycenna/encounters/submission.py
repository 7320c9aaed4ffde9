"""When an encounter may be submitted: the preconditions, in the agent guide's order.

One function decides for every path: the agent's query (one-call submission),
programmatic checkout, an admin marking a one-off invoice paid, and consent or
ID approval arriving after a person completed checkout.
"""
from avycenna.audit.service import record
from avycenna.billing.coverage import void_one_off
from avycenna.billing.service import payment_for
from avycenna.clock import utcnow
from avycenna.db import transaction
from avycenna.encounters import lifecycle
from avycenna.encounters.models import Encounter

REASONS = ("patient_required", "patient_not_owned", "telehealth_consent_required",
           "patient_not_id_verified", "subscription_required", "rate_limit_reached")
PAYMENT_REASONS = ("subscription_required", "rate_limit_reached")


def pending_reasons(encounter, patient_not_owned=False, lock=False):
    """Every failing precondition, in REASONS order, and how payment would be made."""
    from avycenna.patients.service import has_current_consent

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
