"""The encounter lifecycle, in one place.

    awaiting_checkout → submitted → in_review → answered → closed
    awaiting_checkout → expired (no checkout within 72 h) | cancelled
    submitted → cancelled;  in_review → closed;  answered → in_review (a follow-up query)

Every status change goes through `transition()`, a conditional UPDATE (… WHERE
status = <expected>), so two requests racing for the same change never both win.
"""
from avycenna.clock import utcnow
from avycenna.errors import ApiError, fail
from avycenna.webhooks.events import emit_encounter_status

STATUSES = ("awaiting_checkout", "submitted", "in_review", "answered", "closed", "expired", "cancelled")

TRANSITIONS = {
    "awaiting_checkout": {"submitted", "expired", "cancelled"},
    "submitted": {"in_review", "cancelled"},
    "in_review": {"answered", "closed"},
    "answered": {"closed", "in_review"},
    "closed": set(),
    "expired": set(),
    "cancelled": set(),
}

# Timestamp set when an encounter enters a status.
STAMPS = {"submitted": "submitted_at", "in_review": "taken_at", "answered": "answered_at",
          "closed": "closed_at"}

# Who may post messages, and when.
MESSAGING = ("submitted", "in_review", "answered")
# Where a follow-up query is accepted.
QUERYABLE = ("awaiting_checkout", "submitted", "in_review", "answered")


def allowed(current, target):
    return target in TRANSITIONS[current]


def check(encounter, target):
    """409 with a clear message when `encounter` cannot move to `target`."""
    if not allowed(encounter.status, target):
        fail(409, f"Encounter is {encounter.status}; it cannot become {target}.")


def transition(encounter, target, **fields):
    """Move `encounter` to `target` if it is still in the status it was read with.

    Returns the updated encounter; 409 when the move is illegal or another request
    changed the status first. Call inside a write transaction.
    """
    from avycenna.encounters.models import Encounter

    check(encounter, target)
    now = utcnow()
    values = {"status": target, "updated_at": now, **fields}
    if target in STAMPS and STAMPS[target] not in fields:
        values[STAMPS[target]] = now
    updated = (Encounter.update(**values)
               .where((Encounter.id == encounter.id) & (Encounter.status == encounter.status))
               .execute())
    if updated != 1:
        fail(409, f"Encounter is no longer {encounter.status}; it was changed by another request.")
    for name, value in values.items():
        field = Encounter._meta.fields[name]
        setattr(encounter, getattr(field, "object_id_name", name), getattr(value, "id", value))
    emit_encounter_status(encounter)
    return encounter


def claim(encounter, account_id, **fields):
    """Set `fields` if the encounter is still in the status it was read with and unclaimed
    or already `account_id`'s: a conditional UPDATE, so two accounts racing for one
    checkout link never both get it. Returns False for the loser. Call inside a write
    transaction.
    """
    from avycenna.encounters.models import Encounter

    updated = (Encounter.update(**fields)
               .where((Encounter.id == encounter.id) & (Encounter.status == encounter.status)
                      & (Encounter.account.is_null() | (Encounter.account == account_id)))
               .execute())
    if updated == 1:
        for name, value in fields.items():
            setattr(encounter, name, value)
    return updated == 1


def require(encounter, statuses, doing):
    """409 unless the encounter is in one of `statuses`."""
    if encounter.status not in statuses:
        fail(409, f"Encounter is {encounter.status}; cannot {doing}.")


def expire_if_due(encounter):
    """Lazy expiry on read: an encounter not checked out within 72 h becomes expired.

    One the person did check out (it only waits for clinic staff: ID approval or a
    payment to mark) never expires: the person has done their part.
    """
    if (encounter.status == "awaiting_checkout" and encounter.checked_out_at is None
            and utcnow() >= encounter.token_expires_at):
        from avycenna.db import write_transaction

        with write_transaction():
            try:
                transition(encounter, "expired")
            except ApiError:  # another request changed it first: read it again
                from avycenna.encounters.models import Encounter

                encounter.status = Encounter.get_by_id(encounter.id).status
    return encounter.status == "expired"


def expire_due():
    """Expire every overdue encounter at once (`flask --app app expire-encounters`)."""
    from avycenna.encounters.models import Encounter

    now = utcnow()
    return (Encounter.update(status="expired", updated_at=now)
            .where((Encounter.status == "awaiting_checkout") & Encounter.checked_out_at.is_null()
                   & (Encounter.token_expires_at <= now))
            .execute())
