"""Rows the grants and wearables tests need, made directly (the patients API lives elsewhere)."""
from datetime import date

from avycenna.db import database
from avycenna.patients.models import Patient


def make_patient(app, account, name="Alex Doe", relationship="self", archived=False):
    from avycenna.clock import utcnow

    with app.app_context(), database.obj.connection_context():
        return Patient.create(account=account, name=name, date_of_birth=date(1980, 5, 17),
                              relationship=relationship, archived_at=utcnow() if archived else None)


def audit_events(app, **where):
    """Audit events matching column=value filters, oldest first."""
    from avycenna.audit.models import AuditEvent

    with app.app_context(), database.obj.connection_context():
        query = AuditEvent.select().order_by(AuditEvent.at, AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(query)
