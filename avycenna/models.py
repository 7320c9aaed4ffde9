"""Every table's model, in one list for migrations and schema.sql."""


def all_models():
    from avycenna.api_keys.models import ApiKey
    from avycenna.audit.models import AuditEvent
    from avycenna.auth.models import OtpCode, RefreshToken, User
    from avycenna.patients.models import Patient

    return [User, ApiKey, AuditEvent, Patient, RefreshToken, OtpCode]
