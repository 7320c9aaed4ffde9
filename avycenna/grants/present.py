"""A grant as its clinician or its holder may see it — one form for the API and the pages.

The clinician learns the patient's id while the grant is active (to read what it opens);
the patient's name, date of birth and relationship only when `identity_access` allows it.
The holder always sees their own patient.
"""
from avycenna.grants import service
from avycenna.access import shown_identity

FIELDS = ("id", "email", "message", "expires_at", "created_at", "responded_at", "revoked_at", "revoked_by")


def present(grant, user, context="grant"):
    """The response form of `grant` for `user` (its clinician or its holder)."""
    status = service.effective_status(grant)
    if grant.clinician_id == user.id:  # a clinician made a member no longer learns whom it covers
        shown = status == "active" and user.role == "clinician"
    else:
        shown = True
    patient_id = grant.patient_id if grant.patient_id is not None and shown else None
    patient = shown_identity(user, grant.patient, context) if patient_id is not None else None
    clinician = grant.clinician
    return {**{name: getattr(grant, name) for name in FIELDS}, "status": status, "scopes": grant.scope_list,
            "clinician": {"id": clinician.id, "name": clinician.name, "email": clinician.email},
            "patient_id": patient_id, "patient": patient}


def present_all(grants, user, context="grant.list"):
    return [present(grant, user, context) for grant in grants]
