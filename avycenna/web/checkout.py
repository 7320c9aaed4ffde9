"""The checkout page an agent sends a person to (`checkout_url`), built for a phone.

It shows what was asked, then walks through: sign in by e-mail code, pick or add the
patient, telehealth consent, ID verification, payment (subscription or one-off, by the
clinic's manual provider), submit. Every decision is the checkout service's
(`avycenna.checkout.service`), the same the API's `POST /checkout` makes; this page
only gathers the person's answers. The chosen patient travels in the page address
(`?patient=`), so nothing is bound to the encounter until the person submits.
"""
import hashlib

from flask import flash, redirect, render_template, request, session, url_for

from avycenna.billing import service as billing
from avycenna.billing.plans import all_plans, find_plan
from avycenna.checkout import service as checkouts
from avycenna.encounters.service import latest_query
from avycenna.errors import ApiError
from avycenna.patients import service as patients
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome
from avycenna.web.patients import CHOICES, add_patient, id_verification_action, own_patients
from avycenna.web.sessions import page_user

REASONS = {
    "patient_required": "Choose who this question is for.",
    "patient_not_owned": "That patient is not on your account.",
    "telehealth_consent_required": "Telehealth consent is needed for this patient.",
    "patient_not_id_verified": "The clinic is checking the patient's ID. It goes to a clinician as soon as "
                               "staff approve it.",
    "subscription_required": "Payment is open: clinic staff mark the invoice paid, then it goes to a "
                             "clinician automatically.",
    "rate_limit_reached": "Your plan's included encounters for this period are used up; the one-off "
                          "invoice below covers this one. Staff mark it paid, then it goes to a clinician.",
}
CLOSED = {
    404: ("This checkout link is not valid",
          "The link may be mistyped, or it belongs to another account. Ask your assistant for a new one."),
    409: ("This checkout link has expired",
          "Checkout links work for 72 hours. Ask your assistant again to get a new link."),
}


LONG_QUERY = 800  # characters; a longer question is collapsed to its start so step 1 stays in reach
REMEMBERED = "checkout_patients"  # session: {link digest: patient id}, the most recent few


STEPS = ("patient", "consent", "id", "payment", "submit")


def checkout_link(token, patient_id=None, step=None):
    """The checkout page's address; `step` (e.g. "consent") scrolls to that step, where the
    page shows any message about what was just done (`?at=`)."""
    return (url_for("web.checkout", token=token, patient=patient_id or None, at=step)
            + (f"#step-{step}" if step else ""))


def _link_key(token):
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def remembered_patient(token):
    """The patient last chosen on this checkout link in this browser (ownership is checked by the caller)."""
    return session.get(REMEMBERED, {}).get(_link_key(token))


def remember_patient(token, patient_id):
    chosen = {k: v for k, v in session.get(REMEMBERED, {}).items() if k != _link_key(token)}
    chosen[_link_key(token)] = str(patient_id)
    session[REMEMBERED] = dict(list(chosen.items())[-5:])


def open_encounter(token):
    """(encounter, None) for a usable link, else (None, (status, title, text)) for the closed page."""
    try:
        return checkouts.encounter_for_checkout(token, page_user()), None
    except ApiError as error:
        if error.code not in CLOSED:
            raise
        return None, (error.code, *CLOSED[error.code])


def closed_page(problem):
    status, title, text = problem
    return render_template("web/checkout_closed.html", title=title, text=text), status


def payment_state(user):
    """What the person's account has for paying: the subscription, its plan and allowance left."""
    subscription = billing.current_subscription(user.id)
    plan = find_plan(subscription.plan) if subscription else None
    left = None
    if subscription is not None and subscription.status == "active" and plan:
        left = max(0, plan["included_encounters"] - billing.used_allowance(subscription))
    return {"subscription": subscription, "plan": plan, "left": left, "plans": all_plans()}


def encounter_invoices(user, encounter):
    return [inv for inv in billing.list_invoices(user, 50, None)["data"]
            if inv.encounter_id == encounter.id or (inv.kind == "subscription" and inv.status == "open")]


@bp.get("/checkout/<token>")
def checkout(token):
    return render_checkout(token, request.args.get("patient") or remembered_patient(token))


def render_checkout(token, patient_id, errors=None, values=None, section=None, status=200, **extra):
    """The checkout page (or the closed / done page) with `patient_id` chosen; `errors` of `section`."""
    encounter, problem = open_encounter(token)
    if problem:
        return closed_page(problem)
    user = page_user()
    state = checkouts.preview(user, token)
    owner = user is not None and encounter.account_id == user.id
    if encounter.status != "awaiting_checkout" or encounter.checked_out_at is not None:
        return render_template("web/checkout_done.html", encounter=encounter, state=state, owner=owner,
                               query=latest_query(encounter) if owner else None, reasons=REASONS,
                               invoices=encounter_invoices(user, encounter) if owner else [])
    context = {"token": token, "encounter": encounter, "query": latest_query(encounter), "user": user,
               "errors": errors or {}, "values": values or {}, "section": section,
               "next": checkout_link(token, step="patient"), "plans": all_plans(), "long_query": LONG_QUERY,
               "at": request.args.get("at") if request.args.get("at") in STEPS else None, **extra}
    if user is not None:
        chosen = patients.owned_patient(user, patient_id)
        context.update(patients=own_patients(user), patient=chosen, **payment_state(user))
        if chosen is not None:
            remember_patient(token, chosen.id)
            context.update(consent=patients.consent_text(), consent_ok=patients.has_current_consent(chosen),
                           next_url=checkout_link(token, chosen.id, "consent"))
    return render_template("web/checkout.html", **context, **CHOICES), status


@bp.post("/checkout/<token>/patients")
def checkout_add_patient(token):
    encounter, problem = open_encounter(token)
    if problem:
        return closed_page(problem)
    if page_user() is None:
        return redirect(checkout_link(token))
    patient, errors, values = add_patient(page_user(), request.form)
    if errors:
        return render_checkout(token, None, errors, values, "patient", 422, adding=True)
    return redirect(checkout_link(token, patient.id, "consent"))


@bp.post("/checkout/<token>/id-verification")
def checkout_id_verification(token):
    patient_id = request.form.get("patient_id")
    if page_user() is None:
        return redirect(checkout_link(token))
    _, errors = id_verification_action(patient_id, request.form)
    if errors:
        values = {k: request.form.get(k, "") for k in ("document_type", "issuing_country")}
        return render_checkout(token, patient_id, errors, values, "id", 422)
    flash("Sent to the clinic. Staff check it; you can submit meanwhile.", "ok")
    return redirect(checkout_link(token, patient_id, "id"))


@bp.post("/checkout/<token>/subscribe")
def checkout_subscribe(token):
    if page_user() is not None:
        _, errors = attempt(billing.subscribe, page_user(), request.form.get("plan", ""))
        flash_outcome(errors, "Subscribed. The first invoice is open; clinic staff mark it paid.")
    return redirect(checkout_link(token, request.form.get("patient_id"), "payment"))


@bp.post("/checkout/<token>/submit")
def checkout_submit(token):
    if page_user() is None:
        return redirect(checkout_link(token))
    patient_id = request.form.get("patient_id")
    _, errors = attempt(checkouts.checkout, page_user(), token, patient_id)
    if errors:
        flash(next(iter(errors.values())), "error")
        return redirect(checkout_link(token, patient_id, "submit"))
    return redirect(checkout_link(token))
