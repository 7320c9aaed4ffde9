"""Rules about patients, their telehealth consent and ID verification (callable without HTTP)."""
import uuid

from flask import current_app

from avycenna import signals
from avycenna.audit.service import record, record_many, record_refusal
from avycenna.clock import utcnow
from avycenna.db import locked, transaction, write_transaction
from avycenna.errors import DENIED, fail, not_found, validation_error
from avycenna.pagination import paginate
from avycenna.patients.models import IdVerification, Patient


def patient_uuid(patient_id):
    """`patient_id` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(patient_id))
    except (TypeError, ValueError, AttributeError):
        return None


def refuse(patient_id, scope=None, action=None):
    """The 404 that reveals nothing; an attempt on an existing patient is audited first."""
    pid = patient_uuid(patient_id)
    if pid is not None and Patient.select().where(Patient.id == pid).exists():
        details = {k: v for k, v in (("scope", scope), ("attempted", action)) if v}
        record_refusal("patient.access", patient_id=pid, target_type="patient", target_id=pid, **details)
    fail(404, DENIED)


def owned_patient(user, patient_id, include_archived=False, lock=False):
    """The account's patient with this id, or None (never reveals another account's).

    `lock`: read it under a row lock, for a change that depends on what it read."""
    pid = patient_uuid(patient_id)
    if user is None or pid is None:
        return None
    query = Patient.select().where((Patient.id == pid) & (Patient.account == user.id))
    if not include_archived:
        query = query.where(Patient.archived_at.is_null())
    return (locked(query) if lock else query).first()


def get_patient(user, patient_id, include_archived=True, lock=False, action=None):
    """The caller's own patient, or the grant rule's 404 (an attempt on another account's
    patient is audited, so its holder sees it)."""
    patient = owned_patient(user, patient_id, include_archived=include_archived, lock=lock)
    if patient is None:
        refuse(patient_id, action=action)
    return patient


def find_patient(patient_id, lock=False):
    """Any patient by id (staff paths), or 404."""
    pid = patient_uuid(patient_id)
    query = Patient.select().where(Patient.id == pid)
    patient = (locked(query) if lock else query).first() if pid else None
    if patient is None:
        not_found("Patient not found.")
    return patient


def list_patients(user, limit, cursor, relationship=None):
    query = Patient.select().where((Patient.account == user.id) & Patient.archived_at.is_null())
    if relationship:
        query = query.where(Patient.relationship == relationship)
    page = paginate(query, (Patient.created_at, Patient.id), limit, cursor)
    record_many("patient.list", [{"patient_id": patient.id, "target_type": "patient", "target_id": patient.id}
                                 for patient in page["data"]])
    return page


def _check_single_self(user, relationship, exclude_id=None):
    if relationship != "self":
        return
    query = Patient.select().where((Patient.account == user.id) & (Patient.relationship == "self")
                                   & Patient.archived_at.is_null())
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    if query.exists():
        fail(409, "This account already has a patient with relationship 'self'.")


def create_patient(user, name, date_of_birth, relationship, sex_at_birth=None):
    with write_transaction():
        _check_single_self(user, relationship)
        patient = Patient.create(account=user.id, name=name.strip(), date_of_birth=date_of_birth,
                                 relationship=relationship, sex_at_birth=sex_at_birth)
        record("patient.create", patient_id=patient.id, target_type="patient", target_id=patient.id)
    return patient


def _require_active(patient):
    if patient.archived_at is not None:
        fail(409, "This patient is archived.")


def _store(patient, **values):
    """Write only the columns that change (never a whole row read earlier) and keep `patient` in step."""
    values["updated_at"] = utcnow()
    Patient.update(**values).where(Patient.id == patient.id).execute()
    for name, value in values.items():
        setattr(patient, name, value)


@transaction
def update_patient(user, patient_id, changes):
    patient = get_patient(user, patient_id, lock=True, action="update")
    _require_active(patient)
    if "relationship" in changes:
        _check_single_self(user, changes["relationship"], exclude_id=patient.id)
    _store(patient, **{field: value.strip() if field == "name" else value
                       for field, value in changes.items()})
    record("patient.update", patient_id=patient.id, target_type="patient", target_id=patient.id,
           fields=sorted(changes))
    return patient


@transaction
def archive_patient(user, patient_id):
    """Hide the patient from lists and new encounters; the record and its history stay."""
    patient = get_patient(user, patient_id, lock=True, action="archive")
    if patient.archived_at is None:
        _store(patient, archived_at=utcnow())
    record("patient.archive", patient_id=patient.id, target_type="patient", target_id=patient.id)


# Telehealth consent ---------------------------------------------------------------------

def consent_text():
    config = current_app.config
    return {"version": config["TELEHEALTH_CONSENT_VERSION"], "text": config["TELEHEALTH_CONSENT_TEXT"]}


def has_current_consent(patient):
    return (patient.consent_given_at is not None
            and patient.consent_version == current_app.config["TELEHEALTH_CONSENT_VERSION"])


def give_consent(user, patient_id, version):
    if version != current_app.config["TELEHEALTH_CONSENT_VERSION"]:
        validation_error(["body", "version"], "Consent must be given to the current version "
                         f"({current_app.config['TELEHEALTH_CONSENT_VERSION']}) of the consent text.",
                         "value_error.consent_version")
    patient = _give_consent(user, patient_id, version)
    _after_patient_change(patient)
    return patient


@transaction
def _give_consent(user, patient_id, version):
    patient = get_patient(user, patient_id, lock=True)
    _require_active(patient)
    _store(patient, consent_version=version, consent_given_at=utcnow())
    record("patient.consent.give", patient_id=patient.id, target_type="patient",
           target_id=patient.id, version=version)
    return patient


@transaction
def withdraw_consent(user, patient_id):
    patient = get_patient(user, patient_id, lock=True)
    _store(patient, consent_version=None, consent_given_at=None)
    record("patient.consent.withdraw", patient_id=patient.id, target_type="patient",
           target_id=patient.id)
    return patient


# ID verification --------------------------------------------------------------------------

def mask(number):
    """All but the last 4 characters as '*' (spaces and dashes dropped)."""
    digits = "".join(ch for ch in number if ch.isalnum())
    return "*" * (len(digits) - 4) + digits[-4:]


@transaction
def request_id_verification(user, patient_id, document_type, document_number,
                            issuing_country=None, expires_on=None):
    patient = get_patient(user, patient_id, lock=True)
    _require_active(patient)
    if patient.id_verification_status in ("pending", "verified"):
        fail(409, f"ID verification is already {patient.id_verification_status} for this patient.")
    row = IdVerification.create(patient=patient, document_type=document_type,
                                document_number_masked=mask(document_number),
                                issuing_country=issuing_country, expires_on=expires_on)
    _store(patient, id_verification_status="pending")
    record("patient.id_verification.request", patient_id=patient.id,
           target_type="id_verification", target_id=row.id, document_type=document_type)
    return row


def list_id_verifications(status, limit, cursor):
    query = IdVerification.select(IdVerification, Patient).join(Patient).where(
        IdVerification.status == status)
    page = paginate(query, (IdVerification.created_at, IdVerification.id), limit, cursor)
    for row in page["data"]:
        record("patient.id_verification.read", patient_id=row.patient_id,
               target_type="id_verification", target_id=row.id)
    return page


def review_id_verification(reviewer, patient_id, approve, note=None):
    """An admin approves or rejects the patient's pending request; of two racing reviews one wins.

    Nobody else may: 403 before any lookup, so a missing and an existing patient read the same."""
    if reviewer.role != "admin":
        fail(403, "Only admins review ID verifications.")
    row, patient = _review(reviewer, patient_id, approve, note)
    if approve:
        _after_patient_change(patient)
    return row


@transaction
def _review(reviewer, patient_id, approve, note):
    patient = find_patient(patient_id, lock=True)
    row = locked(IdVerification.select().where((IdVerification.patient == patient.id)
                                               & (IdVerification.status == "pending"))).first()
    if row is None:
        fail(409, "This patient has no pending ID verification request.")
    status = "verified" if approve else "rejected"
    values = {"status": status, "reviewed_by": reviewer.id, "reviewed_at": utcnow(), "review_note": note}
    if IdVerification.update(**values).where((IdVerification.id == row.id)
                                             & (IdVerification.status == "pending")).execute() != 1:
        fail(409, "This patient has no pending ID verification request.")
    row = IdVerification.get_by_id(row.id)
    _store(patient, id_verification_status=status)
    record(f"patient.id_verification.{'approve' if approve else 'reject'}", patient_id=patient.id,
           target_type="id_verification", target_id=row.id)
    return row, patient


def _after_patient_change(patient):
    """Consent given or ID approved: encounters already checked out for this patient may go."""
    signals.patient_cleared.send(patient)
