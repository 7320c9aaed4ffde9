"""Dashboard pages for the account's patients: add, edit, consent, ID verification, access log."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.audit.service import record
from avycenna.grants import service as grants
from avycenna.grants.models import Grant
from avycenna.patients import service as patients
from avycenna.patients.models import DOCUMENT_TYPES, RELATIONSHIPS, SEXES_AT_BIRTH
from avycenna.patients.schemas import NewIdVerificationSchema, NewPatientSchema, PatchPatientSchema
from avycenna.web import words
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.sessions import page_user, safe_next, signin_required

PATIENT_FIELDS = ("name", "date_of_birth", "relationship", "sex_at_birth")
CHOICES = {"relationships": [(code, words.relationship_label(code)) for code in RELATIONSHIPS],
           "sexes": [(code, words.sex_label(code)) for code in SEXES_AT_BIRTH],
           "document_types": [(code, words.document_label(code)) for code in DOCUMENT_TYPES],
           "countries": words.country_choices()}


def own_patients(user):
    """The account's (non-archived) patients, oldest first."""
    return patients.list_patients(user, 100, None)["data"]


def patient_access(user, patient):
    """The grants on this patient: the clinicians with access, shown on its page."""
    return {"grants": [g for g in grants.incoming(user).order_by(Grant.created_at.desc())
                       if g.patient_id == patient.id]}


def add_patient(user, form):
    """(patient, errors, values): a new patient from a form, by the API's schema and rule."""
    patient, errors = submit(NewPatientSchema(), form, lambda data: patients.create_patient(user, **data))
    return patient, errors, {k: form.get(k, "") for k in PATIENT_FIELDS}


@bp.get("/account/patients/new")
@signin_required()
def new_patient():
    return render_template("web/patient_new.html", errors={}, values={}, **CHOICES)


@bp.post("/account/patients")
@signin_required()
def create_patient():
    patient, errors, values = add_patient(page_user(), request.form)
    if errors:
        return render_template("web/patient_new.html", errors=errors, values=values, **CHOICES), 422
    flash(f"{patient.name} is added.", "ok")
    return redirect(url_for("web.patient", patient_id=patient.id))


def render_patient(patient, errors=None, status=200, values=None, section=None):
    return render_template("web/patient.html", patient=patient, errors=errors or {}, section=section,
                           values=values or {k: getattr(patient, k) for k in PATIENT_FIELDS},
                           consent=patients.consent_text(), consent_ok=patients.has_current_consent(patient),
                           **patient_access(page_user(), patient), **CHOICES), status


def read_patient(patient_id):
    patient = patients.get_patient(page_user(), patient_id)
    record("patient.read", patient_id=patient.id, target_type="patient", target_id=patient.id)
    return patient


@bp.get("/account/patients/<patient_id>")
@signin_required()
def patient(patient_id):
    return render_patient(read_patient(patient_id))


@bp.post("/account/patients/<patient_id>")
@signin_required()
def update_patient(patient_id):
    patients.get_patient(page_user(), patient_id, action="update")  # another account's: 404, audited once
    _, errors = submit(PatchPatientSchema(), request.form,
                       lambda data: patients.update_patient(page_user(), patient_id, data),
                       required_by=NewPatientSchema())
    if errors:
        values = {k: request.form.get(k, "") for k in PATIENT_FIELDS}
        return render_patient(read_patient(patient_id), errors, 422, values, section="details")
    flash("Saved.", "ok")
    return redirect(url_for("web.patient", patient_id=patient_id))


@bp.post("/account/patients/<patient_id>/consent")
@signin_required()
def give_consent(patient_id):
    return consent_action(patient_id, request.form.get("next"))


def consent_action(patient_id, next_url=None):
    """Give (or, with `withdraw`, withdraw) telehealth consent to the version shown."""
    if request.form.get("withdraw"):
        _, errors = attempt(patients.withdraw_consent, page_user(), patient_id)
    elif not request.form.get("agree"):
        errors = {"agree": "Tick the box to give consent."}
    else:
        _, errors = attempt(patients.give_consent, page_user(), patient_id, request.form.get("version", ""))
    if errors:
        flash(errors.get("agree") or errors.get("version") or errors.get(""), "error")
    return redirect(safe_next(next_url, url_for("web.patient", patient_id=patient_id)))


def id_verification_action(patient_id, form):
    """(row, errors): submit an ID-verification request from a form."""
    return submit(NewIdVerificationSchema(), form,
                  lambda data: patients.request_id_verification(page_user(), patient_id, **data))


@bp.post("/account/patients/<patient_id>/id-verification")
@signin_required()
def request_id_verification(patient_id):
    _, errors = id_verification_action(patient_id, request.form)
    if errors:
        values = {k: request.form.get(k, "") for k in ("document_type", "issuing_country")}
        return render_patient(read_patient(patient_id), errors, 422, values, section="id")
    flash("Sent to the clinic. Staff will check it and the status will change here.", "ok")
    return redirect(url_for("web.patient", patient_id=patient_id))


@bp.post("/account/patients/<patient_id>/archive")
@signin_required()
def archive_patient(patient_id):
    _, errors = attempt(patients.archive_patient, page_user(), patient_id)
    flash_outcome(errors, "The patient is archived; their history is kept.")
    return redirect(url_for("web.account"))
