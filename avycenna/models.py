"""Every table's model, in one list for migrations and schema.sql."""


def all_models():
    from avycenna.api_keys.models import ApiKey
    from avycenna.audit.models import AuditEvent
    from avycenna.encounters.models import IdempotencyRecord
    from avycenna.auth.models import BrowserSession, OtpCode, RefreshToken, User
    from avycenna.backups.models import BackupRecord
    from avycenna.billing.models import Invoice, Subscription
    from avycenna.encounters.models import Encounter, EncounterQuery, Message
    from avycenna.fhir.models import FhirExport, FhirExportPatient
    from avycenna.grants.models import Grant
    from avycenna.patients.models import IdVerification, Patient
    from avycenna.imports.models import ImportUpload, WearableImport
    from avycenna.oauth.models import OAuthAssertion, OAuthClient, OAuthCode, OAuthConnection, OAuthToken
    from avycenna.wearables.models import WearableHourly, WearableSample, WearableSource, WearableSourceOrder
    from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint

    return [User, ApiKey, AuditEvent, Patient, RefreshToken, OtpCode, IdVerification, Encounter,
            EncounterQuery, Message, Subscription, Invoice, IdempotencyRecord, Grant, WearableSample,
            WearableHourly, BrowserSession, BackupRecord, WebhookEndpoint, WebhookDelivery,
            WearableSourceOrder, WearableImport, WearableSource,
            FhirExport, FhirExportPatient, ImportUpload, OAuthClient, OAuthConnection, OAuthCode, OAuthToken,
            OAuthAssertion]
