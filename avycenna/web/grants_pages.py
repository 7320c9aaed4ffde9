"""Grants on the pages: a holder's incoming requests and each patient's access log;
a clinician's patients under grants, with their wearable charts."""
from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for

from avycenna.audit import queries as audit_log
from avycenna.auth.models import STAFF_ROLES
from avycenna.clock import iso_to_ms, utcnow
from avycenna.grants import service as grants
from avycenna.access import require_patient_access, shown_identity
from avycenna.grants.models import SCOPES, Grant
from avycenna.grants.present import present_all
from avycenna.grants.schemas import NewGrantSchema
from avycenna.wearables import service as wearables
from avycenna.web import charts
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.patients import own_patients
from avycenna.web.sessions import page_user, signin_required

RANGES = {"24h": (timedelta(hours=24), "hour"), "7d": (timedelta(days=7), "day"),
          "30d": (timedelta(days=30), "day"), "90d": (timedelta(days=90), "day")}
RANGE_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days"}


@bp.app_template_global()
def unnamed(patient_id):
    """How a page refers to a patient whose identity the reader may not see."""
    return f"Patient {str(patient_id)[:8]}"


@bp.app_template_filter("grant_status")
def grant_status(grant):
    return grants.effective_status(grant)


# The account holder ------------------------------------------------------------------------

@bp.get("/account/grants")
@signin_required()
def account_grants():
    user = page_user()
    rows = list(grants.incoming(user).order_by(Grant.created_at.desc()))
    return render_template("web/grants.html", grants=rows, patients=own_patients(user))


@bp.post("/account/grants/<grant_id>/<any(accept, decline, revoke):action>")
@signin_required()
def answer_grant(grant_id, action):
    user = page_user()
    if action == "accept" and not request.form.get("patient_id"):
        errors = {"patient_id": "Choose a patient to give access to."}
    elif action == "accept":
        _, errors = attempt(grants.accept_grant, grant_id, user, request.form.get("patient_id"))
    else:
        _, errors = attempt(getattr(grants, f"{action}_grant"), grant_id, user)
    done = {"accept": "Access given.", "decline": "Request declined.", "revoke": "Access revoked; it ends at once."}
    flash_outcome(errors, done[action])
    return redirect(request.form.get("back") == "console" and url_for("web.console_patients")
                    or url_for("web.account_grants"))


@bp.get("/account/patients/<patient_id>/access-log")
@signin_required()
def access_log(patient_id):
    patient = require_patient_access(patient_id, "profile", owner_only=True)
    mine = request.args.get("mine") == "1"
    page = audit_log.access_log(patient, 100, request.args.get("cursor"),
                                hide_reads_by=None if mine else page_user().id)
    return render_template("web/access_log.html", patient=patient, page=page, mine=mine)


# The clinician -----------------------------------------------------------------------------

@bp.get("/console/patients")
@signin_required(*STAFF_ROLES)
def console_patients(errors=None, values=None, status=200):
    user = page_user()
    rows = present_all(grants.outgoing(user).order_by(Grant.created_at.desc()), user, "console.patients")
    return render_template("web/console_patients.html", grants=rows, scopes=SCOPES,
                           errors=errors or {}, values=values or {}), status


@bp.post("/console/grants")
@signin_required(*STAFF_ROLES)
def console_request_grant():
    form = request.form
    _, errors = submit(NewGrantSchema(), form, lambda data: grants.request_grant(
        page_user(), data["email"], data["scopes"], data.get("message")))
    if errors:
        return console_patients(errors, {"email": form.get("email", ""), "message": form.get("message", "")}, 422)
    flash("Request sent. The account holder is e-mailed and answers in their dashboard.", "ok")
    return redirect(url_for("web.console_patients"))


def chart_range(now):
    key = request.args.get("range") if request.args.get("range") in RANGES else "7d"
    span, bucket = RANGES[key]
    if bucket == "day":  # whole UTC days, today included
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    else:
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return key, end - span, end, bucket


@bp.get("/console/patients/<patient_id>")
@signin_required(*STAFF_ROLES)
def console_patient(patient_id):
    patient = require_patient_access(patient_id, "wearables")
    identity = shown_identity(page_user(), patient, "console.patient")
    key, start, end, bucket = chart_range(utcnow())
    data = wearables.read_summaries(patient, [spec.type for spec in charts.CHARTS], bucket,
                                    iso_to_ms(start), iso_to_ms(end))  # one audit event
    drawn = [(spec, charts.render(spec, data[spec.type], start, end, bucket)) for spec in charts.CHARTS]
    return render_template("web/console_patient.html", patient=patient, identity=identity, charts=drawn,
                           who=identity.name if identity else unnamed(patient.id), range=key,
                           ranges=list(RANGE_LABELS.items()), start=start, end=end)
