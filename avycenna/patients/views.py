"""/api/v1/patients: the people an account manages care for, their consent and ID verification."""
from flask.views import MethodView
from avycenna import access
from avycenna.blueprint import Blueprint

from avycenna.audit.service import grant_details, record
from avycenna.actor import auth_required, current_user
from avycenna.patients import service
from avycenna.patients.schemas import (GiveConsentSchema, IdVerificationSchema, NewIdVerificationSchema,
                                       NewPatientSchema, PatchPatientSchema, PatientListArgs,
                                       PatientPage, PatientSchema, ReviewSchema)

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients",
                description="The people on your account (you, spouse, children…): stable UUIDs "
                            "to pass as `patient_id`, telehealth consent and ID verification.")


@blp.route("")
class Patients(MethodView):
    @auth_required()
    @blp.arguments(PatientListArgs, location="query")
    @blp.response(200, PatientPage)
    def get(self, args):
        """List your patients (archived ones are left out)."""
        return service.list_patients(current_user(), args["limit"], args["cursor"],
                                     args.get("relationship"))

    @auth_required()
    @blp.arguments(NewPatientSchema)
    @blp.response(201, PatientSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Add a patient (at most one with relationship `self`)."""
        return service.create_patient(current_user(), **body)


@blp.route("/<string:patient_id>")
class PatientItem(MethodView):
    @auth_required()
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id):
        """Read one of your patients, or a patient whose `profile` you may see under a grant."""
        patient = access.readable_patient(current_user(), patient_id)
        record("patient.read", patient_id=patient.id, target_type="patient", target_id=patient.id,
               **grant_details())
        return patient

    @auth_required()
    @blp.arguments(PatchPatientSchema)
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body, patient_id):
        """Change a patient's name, date of birth, relationship or sex at birth."""
        return service.update_patient(current_user(), patient_id, body)

    @auth_required()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, patient_id):
        """Archive a patient: hidden from lists and new encounters, history kept."""
        service.archive_patient(current_user(), patient_id)


@blp.route("/<string:patient_id>/consent")
class Consent(MethodView):
    @auth_required()
    @blp.arguments(GiveConsentSchema)
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, patient_id):
        """Give telehealth consent to the current consent text (its version must match)."""
        return service.give_consent(current_user(), patient_id, body["version"])

    @auth_required()
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, patient_id):
        """Withdraw telehealth consent."""
        return service.withdraw_consent(current_user(), patient_id)


@blp.route("/<string:patient_id>/id-verification")
class IdVerificationRequest(MethodView):
    @auth_required()
    @blp.arguments(NewIdVerificationSchema)
    @blp.response(201, IdVerificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, patient_id):
        """Ask clinic staff to verify the patient's ID (the number is kept masked but the last 4)."""
        return service.request_id_verification(current_user(), patient_id, **body)


@blp.route("/<string:patient_id>/id-verification/<any(approve, reject):decision>")
class ReviewIdVerification(MethodView):
    @auth_required("admin")
    @blp.arguments(ReviewSchema)
    @blp.response(200, IdVerificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, patient_id, decision):
        """Admins: `approve` or `reject` the patient's pending ID verification (optional note)."""
        return service.review_id_verification(current_user(), patient_id, decision == "approve", body["note"])
