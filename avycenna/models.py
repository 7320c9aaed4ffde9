"""Every table's model, in one list for migrations and schema.sql."""


def all_models():
    from avycenna.api_keys.models import ApiKey
    from avycenna.audit.models import AuditEvent
    from avycenna.agent.models import IdempotencyRecord
    from avycenna.auth.models import OtpCode, RefreshToken, User
    from avycenna.backups.models import BackupRecord
    from avycenna.billing.models import Invoice, Subscription
    from avycenna.encounters.models import Encounter, EncounterQuery, Message
    from avycenna.grants.models import Grant
    from avycenna.patients.models import IdVerification, Patient
    from avycenna.wearables.models import WearableHourly, WearableSample

    return [User, ApiKey, AuditEvent, Patient, RefreshToken, OtpCode, IdVerification, Encounter,
            EncounterQuery, Message, Subscription, Invoice, IdempotencyRecord, Grant, WearableSample,
            WearableHourly, BackupRecord]
