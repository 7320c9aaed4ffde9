"""A clinician holding an encounter asks its account holder for access to the patient's data.

The console's encounter page shows how: the holder's e-mail (to write to them) and a
one-click request. `POST /api/v1/encounters/{id}/access-request` is the same call.
"""
from avycenna.encounters.service import assigned_encounter
from avycenna.errors import fail
from avycenna.grants.models import Grant
from avycenna.grants.service import effective_status, request_grant

ENCOUNTER_SCOPES = ("profile", "wearables")


def holder_of(clinician, encounter_id):
    """The account holder (a User) of an encounter `clinician` took; 404 otherwise, 409 without one."""
    encounter = assigned_encounter(clinician, encounter_id)
    if encounter.account_id is None or not encounter.account.is_active:
        fail(409, "This encounter has no account holder to ask.")
    return encounter, encounter.account


def access_state(clinician, encounter):
    """For the encounter page: the clinician's grant on this patient or to this holder, newest first."""
    if encounter.account_id is None:
        return None
    for grant in (Grant.select().where((Grant.clinician == clinician.id)
                                       & (Grant.email == encounter.account.email))
                  .order_by(Grant.created_at.desc())):
        status = effective_status(grant)
        if status == "pending" or (status == "active" and grant.patient_id == encounter.patient_id):
            return grant
    return None


def request_for_encounter(clinician, encounter_id, scopes=ENCOUNTER_SCOPES):
    """Ask the encounter's holder for `scopes` (once: a pending or active request is returned)."""
    encounter, holder = holder_of(clinician, encounter_id)
    existing = access_state(clinician, encounter)
    if existing is not None:
        return existing
    return request_grant(clinician, holder.email, list(scopes),
                         message=f"About the question you sent on {encounter.created_at:%d %b %Y}.")
