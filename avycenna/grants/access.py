"""The one rule for reading or changing a patient's data.

The account that owns the patient may; so may a clinician holding an active
grant on that patient with the needed scope. Anyone else gets the same 404 as a
patient that does not exist, so nothing is revealed; the refusal is audited.
"""
import uuid

from flask import g

from avycenna.audit.service import record
from avycenna.auth.actor import current_user
from avycenna.errors import fail
from avycenna.grants.models import SCOPES
from avycenna.grants.service import DENIED, active_grant, active_grants
from avycenna.patients.models import Patient


def _live_patient(patient_id):
    """The non-archived patient with this id (or None); resets `g.access_grant`."""
    g.access_grant = None
    try:
        patient_uuid = uuid.UUID(str(patient_id))
    except ValueError:
        fail(404, DENIED)
    return Patient.get_or_none((Patient.id == patient_uuid) & Patient.archived_at.is_null())


def require_patient_access(patient_id, scope, owner_only=False):
    """The Patient the current user may access for `scope`, else 404.

    Sets `g.access_grant` to the grant used (None for the owner) so audit
    events can name it.
    """
    user, patient = current_user(), _live_patient(patient_id)
    if patient is not None and user is not None:
        if patient.account_id == user.id:
            return patient
        if not owner_only and user.role == "clinician":
            g.access_grant = active_grant(user, patient, scope)
            if g.access_grant is not None:
                return patient
        # The caller learns nothing; the holder's access log shows the attempt.
        record("patient.access", patient_id=patient.id, target_type="patient", target_id=patient.id,
               outcome="denied", scope=scope)
    fail(404, DENIED)


def patient_scopes(user, patient):
    """(scopes, grants): what `user` may read of `patient` (no request needed, for jobs too)."""
    if patient.account_id == user.id:
        return set(SCOPES), []
    grants = active_grants(user, patient) if user.role == "clinician" else []
    return {scope for grant in grants for scope in grant.scope_list}, grants


def readable_scopes(patient_id):
    """(Patient, scopes) the current user may read: every scope for the owner, the union of a
    clinician's active grants otherwise. No scope at all is the same audited 404 as above."""
    user, patient = current_user(), _live_patient(patient_id)
    if patient is not None and user is not None:
        scopes, grants = patient_scopes(user, patient)
        if scopes:
            g.access_grant = grants[0] if grants else None
            return patient, scopes
        record("patient.access", patient_id=patient.id, target_type="patient", target_id=patient.id,
               outcome="denied", scope="any")
    fail(404, DENIED)


def grant_details():
    """Audit details naming the grant the current access went through, if any."""
    grant = g.get("access_grant")
    return {"grant_id": grant.id} if grant is not None else {}
