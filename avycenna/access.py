"""The one rule for reading or changing a patient's data, and for seeing who a patient is.

The account that owns the patient may; so may a clinician holding an active grant on that
patient with the needed scope. Anyone else gets the same 404 as a patient that does not
exist, so nothing is revealed; a refusal on an existing patient is audited, so the holder
sees it in the access log.

A patient's identity (name, date of birth, sex) is shown to a clinician only under an active
grant with the `profile` scope, or while they hold (took and have not closed) an encounter of
that patient (`identity_access`). Every page and endpoint that names a patient asks it, and
every such read by a clinician is audited with the grant it went through.

What is read later from something made earlier (a bulk export's files, its status) asks the
rule again at the moment of reading: `basis` and `decide_many` answer for a user and patients
without a request, so a revoked grant, an archived patient, a demoted clinician or a disabled
account ends those reads on the next request as it ends the live ones. When access narrows,
the service that narrowed it sends `signals.access_narrowed`, so what was made under the old
access (exports) is cancelled and deleted at once.
"""
from flask import g
from peewee import Value

from avycenna.audit.service import record
from avycenna.actor import current_user
from avycenna.errors import DENIED, fail
from avycenna.grants.models import SCOPES, Grant
from avycenna.grants.service import active_grant, active_grants, status_is
from avycenna.patients.models import Patient
from avycenna.patients.service import owned_patient, patient_uuid, refuse

HELD_STATUSES = ("in_review", "answered")  # an encounter a clinician took and still holds


def _live_patient(patient_id):
    """The non-archived patient with this id (or None); resets `g.access_grant`."""
    g.access_grant = None
    pid = patient_uuid(patient_id)
    if pid is None:
        fail(404, DENIED)
    return Patient.get_or_none((Patient.id == pid) & Patient.archived_at.is_null())


def require_patient_access(patient_id, scope, owner_only=False):
    """The Patient the current user may access for `scope`, else 404.

    Sets `g.access_grant` to the grant used (None for the owner) so audit
    events can name it.
    """
    user = current_user()
    pid = patient_uuid(patient_id)
    patient = Patient.get_or_none((Patient.id == pid) & Patient.archived_at.is_null()) if pid else None
    g.access_grant = None
    if patient is not None and user is not None:
        if patient.account_id == user.id:
            return patient
        if not owner_only and user.role == "clinician":
            g.access_grant = active_grant(user, patient, scope)
            if g.access_grant is not None:
                return patient
    refuse(patient_id, scope)


def readable_patient(user, patient_id):
    """The caller's own patient (archived too), or one a clinician's active `profile` grant covers.

    Anyone else gets the 404 of the grant rule, which reveals nothing.
    """
    patient = owned_patient(user, patient_id, include_archived=True)
    if patient is not None:
        return patient
    if user.role != "clinician":
        refuse(patient_id, "profile", "read")
    return require_patient_access(patient_id, "profile")


def patient_scopes(user, patient):
    """(scopes, grants): what `user` may read of `patient` (no request needed, for jobs too)."""
    if patient.account_id == user.id:
        return set(SCOPES), []
    grants = active_grants(user, patient) if user.role == "clinician" else []
    return {scope for grant in grants for scope in grant.scope_list}, grants


def basis(user, patient):
    """(scopes, grants) `user` may read of `patient` now, by the same rule as a live read: nothing
    for a disabled account, an archived patient, or anyone who is neither the owner nor a
    clinician with an active grant."""
    if user is None or patient is None or not user.is_active or patient.archived_at is not None:
        return set(), []
    return patient_scopes(user, patient)


def granted_patients(user, scope=None):
    """The live patients an active grant of clinician `user` covers (with `scope`, when given),
    as a query: the rule's grant half, for searches and groups that list many patients."""
    grants = Grant.select(Grant.patient).where((Grant.clinician == user.id) & status_is("active"))
    if scope is not None:
        listed = Value(",").concat(Grant.scopes).concat(",")  # stored comma-separated: ",a,b,"
        grants = grants.where(listed.contains("," + scope + ","))
    return _live(Patient.id.in_(grants) if user.is_active and user.role == "clinician" else None)


def readable_patients(user, scope=None):
    """The live patients `user` may read now (with `scope`, when given), as a query: `basis` for
    every patient at once: their own, and those `granted_patients` gives."""
    if not user.is_active:
        return _live(None)
    granted = granted_patients(user, scope)
    return _live((Patient.account == user.id) | Patient.id.in_(granted.select(Patient.id)))


def grant_ids(user, patient_ids, scope):
    """{patient id: the id of an active grant of `user`'s with `scope` on it}, for auditing a
    page of patients read through `readable_patients` (the owner's own need none)."""
    if user.role != "clinician" or not patient_ids:
        return {}
    found = {}
    for grant in Grant.select().where((Grant.clinician == user.id) & Grant.patient.in_(list(patient_ids))
                                      & status_is("active")):
        if scope in grant.scope_list:
            found.setdefault(grant.patient_id, grant.id)
    return found


def _live(condition):
    if condition is None:
        return Patient.select().where(False)
    return Patient.select().where(condition & Patient.archived_at.is_null())


CHUNK = 500  # ids per IN (…) query


def decide_many(user, wanted):
    """The ids among `wanted` ({patient id: needed scopes}) that `user` may NOT read now with
    every needed scope: `basis` for many patients at once, in a few queries. An empty set means
    all may be read."""
    wanted = {str(pid): set(scopes) for pid, scopes in wanted.items()}
    ids = list(wanted)
    if user is None or not user.is_active:
        return set(ids)
    allowed = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        live = {str(p.id): p for p in Patient.select().where(Patient.id.in_(chunk) & Patient.archived_at.is_null())}
        for pid, patient in live.items():
            if patient.account_id == user.id:
                allowed[pid] = set(SCOPES)
        if user.role == "clinician":
            grants = Grant.select().where((Grant.clinician == user.id) & Grant.patient.in_(list(live))
                                          & status_is("active"))
            for grant in grants:
                allowed.setdefault(str(grant.patient_id), set()).update(grant.scope_list)
    return {pid for pid in ids if pid not in allowed or not wanted[pid] <= allowed[pid]}


def readable_scopes(patient_id):
    """(Patient, scopes) the current user may read: every scope for the owner, the union of a
    clinician's active grants otherwise. No scope at all is the same audited 404 as above."""
    user, patient = current_user(), _live_patient(patient_id)
    if patient is not None and user is not None:
        scopes, grants = patient_scopes(user, patient)
        if scopes:
            g.access_grant = grants[0] if grants else None
            return patient, scopes
    refuse(patient_id, "any")


# Identity ---------------------------------------------------------------------------------

def _holds_encounter(user, patient_id):
    from avycenna.encounters.models import Encounter

    return Encounter.select().where((Encounter.clinician == user.id) & (Encounter.patient == patient_id)
                                    & Encounter.status.in_(HELD_STATUSES)).exists()


def identity_access(user, patient):
    """Why `user` may see `patient`'s name, date of birth and sex: "owner", "admin",
    "encounter", the active `profile` Grant — or None (they may not). An archived patient is
    seen through a grant no more, as with every other read of a grant."""
    if user is None or patient is None or not user.is_active:
        return None
    if patient.account_id == user.id:
        return "owner"
    if user.role == "admin":
        return "admin"
    if user.role != "clinician":
        return None
    grant = active_grant(user, patient.id, "profile") if patient.archived_at is None else None
    if grant is not None:
        return grant
    return "encounter" if _holds_encounter(user, patient.id) else None


def shown_identity(user, patient, context):
    """`patient` if `user` may see who it is (the read audited when it goes through a grant or
    an encounter), else None. `context` names the list or page that shows it."""
    reason = identity_access(user, patient)
    if reason is None:
        return None
    if reason not in ("owner", "admin"):
        details = {"via": "encounter"} if reason == "encounter" else {"grant_id": reason.id}
        record("patient.identity.read", patient_id=patient.id, target_type="patient",
               target_id=patient.id, context=context, **details)
    return patient


def shown_identities(user, patient_ids, context):
    """{patient_id: Patient} of the patients among `patient_ids` whose identity `user` may see."""
    ids = {pid for pid in patient_ids if pid is not None}
    patients = Patient.select().where(Patient.id.in_(list(ids))) if ids else []
    return {p.id: p for p in patients if shown_identity(user, p, context) is not None}
