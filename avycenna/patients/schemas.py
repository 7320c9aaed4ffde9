"""Request and response bodies of /api/v1/patients and the consent and ID-verification calls."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from avycenna.clock import utcnow
from avycenna.patients.models import DOCUMENT_TYPES, ID_STATUSES, RELATIONSHIPS, SEXES_AT_BIRTH
from avycenna.schemas import ChangeSchema, Name, PageArgs, Timestamp, dates_pattern, page_schema

EARLIEST_BIRTH = date(1900, 1, 1)


def _not_future(value):
    if value > utcnow().date():
        raise ValidationError("Date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH:
        raise ValidationError("Date of birth must be in 1900 or later.")


def BirthDate(**kwargs):
    """A date of birth from 1900-01-01 up to today. The document's pattern states the dates up to
    the day the server started (a later day only widens what the server accepts)."""
    metadata = {"pattern": dates_pattern(EARLIEST_BIRTH, utcnow().date()),
                "description": "From 1900-01-01 up to today (not in the future).", **kwargs.pop("metadata", {})}
    return fields.Date(validate=_not_future, metadata=metadata, **kwargs)


class NewPatientSchema(Schema):
    name = Name(required=True, metadata={"example": "Maria Lopez"})
    date_of_birth = BirthDate(required=True, metadata={"example": "1984-03-02"})
    relationship = fields.String(required=True, validate=validate.OneOf(RELATIONSHIPS),
                                 metadata={"example": "spouse"})
    sex_at_birth = fields.String(load_default=None, allow_none=True,
                                 validate=validate.OneOf(SEXES_AT_BIRTH))


class PatchPatientSchema(ChangeSchema):
    name = Name()
    date_of_birth = BirthDate()
    relationship = fields.String(validate=validate.OneOf(RELATIONSHIPS))
    sex_at_birth = fields.String(allow_none=True, validate=validate.OneOf(SEXES_AT_BIRTH))


class PatientSchema(Schema):
    id = fields.UUID(metadata={"example": "7b0f8a52-3f0e-4d56-9a43-56f0c1d1f2a1"})
    name = fields.String()
    date_of_birth = fields.Date()
    relationship = fields.String(metadata={"example": "self"})
    sex_at_birth = fields.String(allow_none=True)
    consent_version = fields.String(allow_none=True, metadata={"example": "2026-01"})
    consent_given_at = Timestamp(allow_none=True)
    consent_current = fields.Method("_consent_current", metadata={
        "type": "boolean", "description": "Consent was given to the current consent text."})
    id_verification_status = fields.String(metadata={"enum": list(ID_STATUSES)})
    created_at = Timestamp()
    updated_at = Timestamp()
    archived_at = Timestamp(allow_none=True)

    def _consent_current(self, patient):
        from avycenna.patients.service import has_current_consent

        return has_current_consent(patient)


PatientPage = page_schema(PatientSchema, "PatientPage")


class PatientListArgs(PageArgs):
    relationship = fields.String(validate=validate.OneOf(RELATIONSHIPS))


class ConsentTextSchema(Schema):
    version = fields.String(metadata={"example": "2026-01"})
    text = fields.String()


class GiveConsentSchema(Schema):
    version = fields.String(required=True, validate=validate.Length(min=1, max=32),
                            metadata={"example": "2026-01"})


class NewIdVerificationSchema(Schema):
    document_type = fields.String(required=True, validate=validate.OneOf(DOCUMENT_TYPES))
    document_number = fields.String(required=True, load_only=True,
                                    validate=validate.Regexp(r"^[A-Za-z0-9 -]{4,40}$",
                                                             error="4 to 40 letters, digits, spaces or dashes."))
    issuing_country = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166-1 alpha-2 code."))
    expires_on = fields.Date(load_default=None, allow_none=True)


class ReviewSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class IdVerificationSchema(Schema):
    id = fields.String(metadata={"example": "idv_Qm3kP9xT2bLw"})
    patient_id = fields.UUID()
    patient_name = fields.Function(lambda row: row.patient.name)
    patient_date_of_birth = fields.Function(lambda row: row.patient.date_of_birth.isoformat())
    document_type = fields.String()
    document_number_masked = fields.String(metadata={"example": "******1234"})
    issuing_country = fields.String(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": ["pending", "verified", "rejected"]})
    review_note = fields.String(allow_none=True)
    reviewed_at = Timestamp(allow_none=True)
    created_at = Timestamp()


IdVerificationPage = page_schema(IdVerificationSchema, "IdVerificationPage")


class IdVerificationListArgs(PageArgs):
    status = fields.String(load_default="pending", validate=validate.OneOf(["pending", "verified", "rejected"]))
