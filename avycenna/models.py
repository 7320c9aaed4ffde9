"""Every table's model, in one list for migrations and schema.sql."""


def all_models():
    from avycenna.api_keys.models import ApiKey
    from avycenna.audit.models import AuditEvent
    from avycenna.auth.models import User
    from avycenna.grants.models import Grant
    from avycenna.patients.models import Patient
    from avycenna.wearables.models import WearableHourly, WearableSample

    return [User, ApiKey, AuditEvent, Patient, Grant, WearableSample, WearableHourly]
