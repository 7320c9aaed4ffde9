"""The clinician console: the queue (oldest first), one encounter (take, read, message,
ask the agent, answer, close). Every step is the encounter service's, as in the API."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.auth.models import STAFF_ROLES
from avycenna.encounters import service as encounters
from avycenna.encounters.schemas import AnswerSchema, CloseSchema, NewMessageSchema
from avycenna.access import shown_identities
from avycenna.encounters.patient_view import queue_facts, waited
from avycenna.encounters.access_request import access_state, request_for_encounter
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.sessions import page_user, signin_required

@bp.get("/console")
@signin_required(*STAFF_ROLES)
def console():
    user = page_user()
    queue = encounters.queue(50, request.args.get("cursor"))
    mine = encounters.taken_by(user)
    names = shown_identities(user, [e.patient_id for e in queue["data"] + mine], "console.queue")
    facts = {e.id: queue_facts(user, e, names) for e in queue["data"]}  # what the role may see of each patient
    return render_template("web/console.html", queue=queue, facts=facts, mine=mine, names=names, waited=waited)


def render_encounter(encounter_id, errors=None, status=200, section=None, values=None):
    user = page_user()
    encounter = encounters.read_encounter(user, encounter_id)
    taken_by_me = encounters.messaging_role(user, encounter) == "clinician"  # took it (or an admin)
    patient = encounters.patient_of(user, encounter.id) if taken_by_me and encounter.patient_id else None
    messages = encounters.list_messages(encounter, 200)["data"] if taken_by_me else []
    access = access_state(user, encounter) if patient is not None else None
    return render_template("web/console_encounter.html", encounter=encounter, taken_by_me=taken_by_me,
                           queries=encounters.queries(encounter), patient=patient, messages=messages,
                           access=access, facts=queue_facts(user, encounter), waited=waited,
                           errors=errors or {}, section=section, values=values or {}), status


@bp.get("/console/encounters/<encounter_id>")
@signin_required(*STAFF_ROLES)
def console_encounter(encounter_id):
    return render_encounter(encounter_id)


@bp.post("/console/encounters/<encounter_id>/take")
@signin_required(*STAFF_ROLES)
def console_take(encounter_id):
    _, errors = attempt(encounters.take, page_user(), encounter_id)
    flash_outcome(errors, "It is yours. The patient and the history are below.")
    return redirect(url_for("web.console_encounter", encounter_id=encounter_id)
                    if not errors else url_for("web.console"))


@bp.post("/console/encounters/<encounter_id>/access-request")
@signin_required(*STAFF_ROLES)
def console_access_request(encounter_id):
    grant, errors = attempt(request_for_encounter, page_user(), encounter_id)
    flash_outcome(errors, "Request sent: the account holder is e-mailed a link to answer it.")
    return redirect(url_for("web.console_encounter", encounter_id=encounter_id) + "#access")


def form_action(encounter_id, section, schema, action, done):
    """Parse the form by the API's schema, run the service action, and come back to the encounter."""
    _, errors = submit(schema, request.form, lambda data: action(page_user(), encounter_id, data))
    if errors:
        values = {k: request.form.get(k, "") for k in request.form if k != "csrf_token"}
        return render_encounter(encounter_id, errors, 422, section, values)
    flash(done, "ok")
    return redirect(url_for("web.console_encounter", encounter_id=encounter_id) + f"#{section}")


@bp.post("/console/encounters/<encounter_id>/messages")
@signin_required(*STAFF_ROLES)
def console_message(encounter_id):
    def post(user, encounter_id, data):
        return encounters.post_message(user, encounter_id, data["body"], data.get("asks_agent", False))
    return form_action(encounter_id, "messages", NewMessageSchema(), post,
                       "Sent. The agent sees it when it next checks the encounter.")


@bp.post("/console/encounters/<encounter_id>/answer")
@signin_required(*STAFF_ROLES)
def console_answer(encounter_id):
    def post(user, encounter_id, data):
        return encounters.answer(user, encounter_id, data["body"])
    return form_action(encounter_id, "answer", AnswerSchema(), post,
                       "Answer sent. The agent receives it on its next check.")


@bp.post("/console/encounters/<encounter_id>/close")
@signin_required(*STAFF_ROLES)
def console_close(encounter_id):
    def post(user, encounter_id, data):
        return encounters.close(user, encounter_id, data.get("summary"))
    return form_action(encounter_id, "close", CloseSchema(), post, "Closed.")
