"""Template filters shared by the pages."""
from avycenna.web.blueprint import bp

# Audit actions as the access log shows them; any other reads as its code with dots as spaces.
ACTIONS = {
    "patient.read": "Read patient details", "patient.list": "Listed patients",
    "patient.create": "Added the patient", "patient.update": "Changed patient details",
    "patient.archive": "Archived the patient", "patient.access": "Tried to open the patient",
    "patient.access_log.read": "Read this access log",
    "patient.consent.give": "Gave telehealth consent", "patient.consent.withdraw": "Withdrew telehealth consent",
    "patient.id_verification.request": "Sent an ID document",
    "patient.id_verification.read": "Read ID verification",
    "wearables.read": "Read wearable data", "wearables.summary.read": "Read wearable summary",
    "wearables.ingest": "Uploaded wearable data",
    "grant.request": "Requested access", "grant.accept": "Access given", "grant.decline": "Request declined",
    "grant.revoke": "Access revoked",
    "encounter.read": "Read an encounter", "encounter.list": "Listed encounters",
    "encounter.query": "Asked a question", "encounter.checkout": "Checked out",
    "encounter.submit": "Sent to a clinician", "encounter.take": "Clinician took the question",
    "encounter.answer": "Answered", "encounter.close": "Closed the encounter",
    "encounter.cancel": "Cancelled the encounter", "encounter.queue": "Read the clinicians' queue",
    "message.list": "Read messages", "message.create": "Wrote a message",
    "invoice.create": "Invoice created", "invoice.mark_paid": "Invoice marked paid",
    "fhir.patient.read": "Read patient details (FHIR)", "fhir.observation.search": "Read wearable data (FHIR)",
    "fhir.everything": "Read the whole record (FHIR)", "fhir.export": "Exported the record (FHIR bulk export)",
    "fhir.export.download": "Downloaded an export file (FHIR bulk export)",
}
OUTCOMES = {"success": "done", "failure": "failed", "denied": "denied"}
ROLES = {"member": "account holder"}


@bp.app_template_filter("when")
def when(value):
    """A stored (naive UTC) datetime as `2026-11-22 10:05 UTC`."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("action_label")
def action_label(code):
    """An audit action in words: `wearables.summary.read` → "Read wearable summary"."""
    return ACTIONS.get(code) or code.replace("_", " ").replace(".", " ").capitalize()


@bp.app_template_filter("outcome_label")
def outcome_label(outcome):
    return OUTCOMES.get(outcome, outcome)


@bp.app_template_filter("actor_label")
def actor_label(event, me):
    """Who acted, for the access log: "you", "Dr. Sarah Chen (clinician) · sarah@…", an assistant, …."""
    if event.actor_user_id and me is not None and event.actor_user_id == me.id:
        who = "you"
    elif event.actor_user_id:
        name = getattr(event, "actor_name", None) or getattr(event, "actor_email", None) or "a removed account"
        email = getattr(event, "actor_email", None)
        role = getattr(event, "actor_role", None)
        who = name + (f" ({ROLES.get(role, role)})" if role else "") + (f", {email}" if email and email != name else "")
    elif event.actor_type == "encounter":
        who = "your assistant (encounter link)"
    else:
        who = {"system": "the clinic's server", "anonymous": "someone not signed in"}.get(event.actor_type,
                                                                                          event.actor_type)
    via = {"api_key": " via an API key", "oauth": " via a connected app"}.get(event.actor_type, "")
    return who + via


@bp.app_template_filter("encounter_state")
def encounter_state(encounter):
    """An encounter's status in words; a checked-out one still awaiting ID or payment is with the clinic."""
    if encounter.status == "awaiting_checkout" and encounter.checked_out_at is not None:
        return "waiting on the clinic"
    return encounter.status.replace("_", " ")
