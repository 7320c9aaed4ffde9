"""Reading the audit log (newest first). Writing is `service.record`; nothing updates or deletes."""
from peewee import JOIN

from avycenna.audit.models import AuditEvent
from avycenna.auth.models import User
from avycenna.pagination import paginate


def events(patient_id=None, actor_user_id=None, action=None, since=None, until=None):
    """Events matching every filter given, with the acting account's name, e-mail and role joined."""
    query = (AuditEvent.select(AuditEvent, User.name.alias("actor_name"), User.email.alias("actor_email"),
                               User.role.alias("actor_role"))
             .join(User, on=(AuditEvent.actor_user_id == User.id), join_type=JOIN.LEFT_OUTER)
             .objects())
    for column, value in ((AuditEvent.patient_id, patient_id), (AuditEvent.actor_user_id, actor_user_id),
                          (AuditEvent.action, action)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query


def page(query, limit, cursor):
    return paginate(query, (AuditEvent.at, AuditEvent.id), limit, cursor, descending=True)


READ_ACTIONS = ("patient.list", "patient.read", "patient.access_log.read", "patient.id_verification.read",
                "encounter.read", "encounter.list", "message.list", "wearables.read", "wearables.summary.read",
                "fhir.patient.read", "fhir.observation.search", "fhir.everything", "fhir.export",
                "fhir.export.download")


def access_log(patient, limit, cursor, hide_reads_by=None):
    """Who read or changed `patient`'s data, newest first; reading it is recorded too.

    `hide_reads_by` (a user id) leaves out that account's own reads (the pages hide the
    holder's, so a clinician's reads stand out); its changes stay.
    """
    from avycenna.audit.service import record

    query = events(patient_id=str(patient.id))
    if hide_reads_by is not None:
        query = query.where(AuditEvent.actor_user_id.is_null() | (AuditEvent.actor_user_id != hide_reads_by)
                            | AuditEvent.action.not_in(READ_ACTIONS))
    result = page(query, limit, cursor)
    record("patient.access_log.read", patient_id=patient.id, target_type="patient", target_id=patient.id)
    return result
