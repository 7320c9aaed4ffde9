"""Programmatic checkout: a signed-in account binds its patient and submits (or learns what is pending).

The HTML checkout pages call these same functions.
"""
from avycenna.audit.service import record
from avycenna.encounters.coverage import invoice_to_pay
from avycenna.clock import utcnow
from avycenna.db import transaction
from avycenna.encounters import lifecycle
from avycenna.encounters.service import audit, find_by_encounter_token
from avycenna.encounters.submission import pending_reasons, try_submit
from avycenna.errors import fail, not_found
from avycenna.patients.service import get_patient


def encounter_for_checkout(encounter_token, user=None):
    """The encounter behind a checkout link: 404 unknown (or another account's), 409 expired."""
    encounter = find_by_encounter_token(encounter_token)
    if encounter is None or (user is not None and encounter.account_id not in (None, user.id)):
        not_found("Checkout link not found.")
    if encounter.status == "expired":
        fail(409, "This encounter expired: it was not checked out within 72 hours.")
    return encounter


@transaction
def checkout(user, encounter_token, patient_id):
    """Claim the encounter for `user`, bind their patient, and submit when nothing is pending.

    When payment is what blocks, the one invoice that pays for it is returned
    (`encounters.coverage.invoice_to_pay`): the open invoice of a subscription chosen but
    not paid yet, else a one-off invoice (created, or the open one returned). An admin
    marking it paid submits the encounter. Returns the state the caller needs to finish.
    """
    encounter = encounter_for_checkout(encounter_token, user)
    lifecycle.require(encounter, ("awaiting_checkout",), "check out")
    patient = get_patient(user, patient_id, include_archived=False)
    if not lifecycle.claim(encounter, user.id, account=user.id, patient=patient, checked_out_at=utcnow()):
        encounter_for_checkout(encounter_token, user)  # 404 when another account took it
        fail(409, "This encounter was changed by another request; try again.")
    reasons = try_submit(encounter)
    invoice = invoice_to_pay(encounter, reasons)
    audit("encounter.checkout", encounter, pending=reasons)
    return checkout_state(encounter, reasons, invoice)


def checkout_state(encounter, reasons, invoice=None):
    return {"encounter_id": encounter.id, "status": encounter.status,
            "submitted": encounter.status == "submitted", "pending_reasons": reasons,
            "patient_id": encounter.patient_id, "invoice": invoice}


def preview(user, encounter_token):
    """What is still pending for the encounter behind a checkout link (for the pages)."""
    encounter = encounter_for_checkout(encounter_token, user)
    reasons, _ = pending_reasons(encounter) if encounter.status == "awaiting_checkout" else ([], None)
    record("encounter.read", patient_id=encounter.patient_id, target_type="encounter", target_id=encounter.id)
    return checkout_state(encounter, reasons)
