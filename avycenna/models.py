"""Every table's model, in one list for migrations and schema.sql."""


def all_models():
    from avycenna.api_keys.models import ApiKey
    from avycenna.audit.models import AuditEvent
    from avycenna.auth.models import User
    from avycenna.agent.models import IdempotencyRecord
    from avycenna.billing.models import Invoice, Subscription
    from avycenna.encounters.models import Encounter, EncounterQuery, Message
    from avycenna.patients.models import IdVerification, Patient

    return [User, ApiKey, AuditEvent, Patient, IdVerification, Encounter, EncounterQuery, Message,
            Subscription, Invoice, IdempotencyRecord]
