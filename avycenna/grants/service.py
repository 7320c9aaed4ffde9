"""Grant rules, callable without HTTP: ask, answer, revoke, list; expiry is derived lazily.

A grant is stored as pending, active, declined or revoked. It *is* expired when it
was left pending for PENDING_DAYS or its `expires_at` has passed; that is decided
when it is read (`effective_status`, `status_is`), never by a background job.
"""
import functools
import operator
from datetime import timedelta

from peewee import fn

from avycenna.audit.service import record
from avycenna.auth.users import normalize_email
from avycenna.clock import utcnow
from avycenna.db import locked, transaction, write_transaction
from avycenna.errors import DENIED, fail
from avycenna.grants.models import Grant
from avycenna.mail import notify
from avycenna.patients.models import Patient
from avycenna.signals import access_narrowed
from avycenna.webhooks.events import emit_grant

PENDING_DAYS = 7


def _pending_cutoff(now):
    return now - timedelta(days=PENDING_DAYS)


def effective_status(grant, now=None):
    """The status a caller sees: stored status, or "expired" when its time is up."""
    now = now or utcnow()
    past_end = grant.expires_at is not None and grant.expires_at <= now
    if grant.status == "pending" and (grant.created_at <= _pending_cutoff(now) or past_end):
        return "expired"
    if grant.status == "active" and past_end:
        return "expired"
    return grant.status


def status_is(status, now=None):
    """A WHERE expression matching grants whose effective status is `status`."""
    now = now or utcnow()
    open_ended = Grant.expires_at.is_null() | (Grant.expires_at > now)
    fresh = Grant.created_at > _pending_cutoff(now)
    if status == "pending":
        return (Grant.status == "pending") & fresh & open_ended
    if status == "active":
        return (Grant.status == "active") & open_ended
    if status == "expired":
        return (((Grant.status == "pending") & ~(fresh & open_ended))
                | ((Grant.status == "active") & ~open_ended))
    return Grant.status == status


def request_grant(clinician, email, scopes, message=None, expires_at=None):
    """A clinician asks the holder of `email` for access; the holder is mailed."""
    email = normalize_email(email)
    if email == clinician.email:
        fail(409, "You cannot ask yourself for access.")  # who asks, not what is asked: no 422
    if expires_at is not None and expires_at <= utcnow():
        fail(409, "expires_at has already passed.")  # a rule of the clock, not of the text: no 422
    with write_transaction():
        grant = Grant.create(clinician=clinician, email=email, scopes=",".join(sorted(set(scopes))),
                             message=message, expires_at=expires_at)
        record("grant.request", target_type="grant", target_id=grant.id, scopes=grant.scope_list)
        emit_grant("grant.requested", grant)
    who = clinician.name or clinician.email
    notify(email, f"{who} asks for access to your health data", request_mail_body(who, grant))
    return grant


def request_mail_body(who, grant):
    """The holder's mail: what is asked, and the page where they answer (never an API path)."""
    from avycenna.http import public_url

    return (f"{who} asks for access to: {', '.join(grant.scope_list)}.\n"
            f"\nAccept it for one of your patients, or decline it, after signing in:\n"
            f"{public_url('/account/grants#grant-' + grant.id)}\n\n"
            f"Unanswered requests expire after {PENDING_DAYS} days.\n")


def is_holder(grant, user):
    return grant.email == user.email or (grant.holder_id is not None and grant.holder_id == user.id)


def visible_grant(grant_id, user):
    """The grant if `user` is its clinician or holder; otherwise the 404 that reveals nothing."""
    grant = Grant.get_or_none(Grant.id == grant_id)
    if grant is None or not (grant.clinician_id == user.id or is_holder(grant, user)):
        fail(404, DENIED)
    return grant


def _require_status(grant, *allowed):
    status = effective_status(grant)
    if status not in allowed:
        fail(409, f"Grant is {status}.")


def _change(grant, allowed, **values):
    """Move the grant on if its effective status is still one of `allowed`: a conditional
    UPDATE, so of two racing answers exactly one wins and the other gets the 409."""
    _require_status(grant, *allowed)
    still = functools.reduce(operator.or_, (status_is(status) for status in allowed))
    if Grant.update(**values).where((Grant.id == grant.id) & still).execute() != 1:
        _require_status(Grant.get_by_id(grant.id), *allowed)
        fail(409, "Grant was changed by another request.")
    for name, value in values.items():
        setattr(grant, name, value)


@transaction
def accept_grant(grant_id, user, patient_id):
    """The holder gives access to one of their own (non-archived) patients."""
    grant = visible_grant(grant_id, user)
    if not is_holder(grant, user):
        fail(404, DENIED)
    _require_status(grant, "pending")
    patient = locked(Patient.select().where((Patient.id == patient_id) & (Patient.account == user)
                                            & Patient.archived_at.is_null())).first()
    if patient is None:
        fail(404, DENIED)
    _change(grant, ("pending",), status="active", holder=user, responded_at=utcnow(), patient=patient)
    record("grant.accept", patient_id=patient.id, target_type="grant", target_id=grant.id,
           scopes=grant.scope_list)
    emit_grant("grant.accepted", grant)
    return grant


@transaction
def decline_grant(grant_id, user):
    """The holder says no to a pending request."""
    grant = visible_grant(grant_id, user)
    if not is_holder(grant, user):
        fail(404, DENIED)
    _change(grant, ("pending",), status="declined", holder=user, responded_at=utcnow())
    record("grant.decline", target_type="grant", target_id=grant.id)
    emit_grant("grant.declined", grant)
    return grant


@transaction
def revoke_grant(grant_id, user):
    """Either side ends a pending or active grant; access stops with the next request."""
    grant = visible_grant(grant_id, user)
    _change(grant, ("pending", "active"), status="revoked", revoked_at=utcnow(),
            revoked_by="clinician" if grant.clinician_id == user.id else "holder")
    record("grant.revoke", patient_id=grant.patient_id, target_type="grant",
           target_id=grant.id, revoked_by=grant.revoked_by)
    emit_grant("grant.revoked", grant)
    if grant.patient_id is not None:
        access_narrowed.send("grants", patient_id=grant.patient_id, user_id=grant.clinician_id)
    return grant


def outgoing(clinician, status=None):
    query = Grant.select().where(Grant.clinician == clinician)
    return query.where(status_is(status)) if status else query


def incoming(user, status=None):
    query = Grant.select().where((Grant.email == user.email) | (Grant.holder == user))
    return query.where(status_is(status)) if status else query


def active_grants(clinician, patient):
    """The clinician's active grants on `patient`, newest answer first. A grant on an archived
    patient opens nothing: archiving ends every clinician's access through a grant at once."""
    return list(Grant.select().join(Patient, on=(Grant.patient == Patient.id))
                .where((Grant.clinician == clinician) & (Grant.patient == patient) & status_is("active")
                       & Patient.archived_at.is_null())
                .order_by(fn.COALESCE(Grant.responded_at, Grant.created_at).desc()))


def active_grant(clinician, patient, scope):
    """The clinician's active grant on `patient` that includes `scope`, or None."""
    return next((g for g in active_grants(clinician, patient) if scope in g.scope_list), None)
