"""What clinic staff see of an encounter's patient before holding it: the one place that decides.

The queue (API and console) shows staff an encounter's patient as age in whole years — enough
to triage, never a name or a date of birth. Sex at birth is part of the patient's identity:
it is shown only to whom `access.identity_access` allows (an admin, a clinician under
an active `profile` grant or holding an encounter of the patient), and that read is audited.
A rule about who sees what of a patient in the queue changes here and nowhere else.
"""
from avycenna.auth.models import STAFF_ROLES
from avycenna.clock import utcnow

NOTHING = {"age": None, "sex_at_birth": None}


def age_on(born, today):
    """Whole years from `born` to `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def queue_facts(viewer, encounter, shown=None):
    """{"age", "sex_at_birth"} of the encounter's patient as `viewer` may see them in the queue.

    `shown`: {patient_id: Patient} the caller already had `shown_identities` decide (and audit)."""
    if viewer is None or viewer.role not in STAFF_ROLES or encounter.patient_id is None:
        return dict(NOTHING)
    from avycenna.access import shown_identity

    patient = encounter.patient
    identity = (shown.get(patient.id) if shown is not None
                else shown_identity(viewer, patient, "encounters.queue"))
    return {"age": age_on(patient.date_of_birth, utcnow().date()),
            "sex_at_birth": identity.sex_at_birth if identity is not None else None}


def waited(encounter, now=None):
    """How long a submitted encounter has waited, in words: "45 min", "3 h 20 min", "2 days 4 h"."""
    if encounter.submitted_at is None:
        return ""
    minutes = max(0, int(((now or utcnow()) - encounter.submitted_at).total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {mins} min" if mins else "")
    return f"{mins} min"
