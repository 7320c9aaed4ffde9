"""Dashboard pages for encounters (with their messages) and billing (subscription, invoices)."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.billing import service as billing
from avycenna.billing.plans import all_plans, find_plan
from avycenna.encounters import service as encounters
from avycenna.encounters.schemas import NewMessageSchema
from avycenna.encounters.submission import pending_reasons
from avycenna.web.blueprint import bp
from avycenna.web.checkout import REASONS
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.sessions import page_user, signin_required


@bp.get("/account/encounters")
@signin_required()
def account_encounters():
    page = encounters.list_own(page_user(), 50, request.args.get("cursor"))
    return render_template("web/encounters.html", page=page)


def render_account_encounter(encounter_id, errors=None, status=200, body=""):
    encounter = encounters.owned_encounter(page_user(), encounter_id)  # the owner's page: 404 otherwise
    encounters.audit("encounter.read", encounter)
    messages = encounters.list_messages(encounter, 200)["data"]
    waiting = encounter.status == "awaiting_checkout" and encounter.checked_out_at is not None
    return render_template("web/encounter.html", encounter=encounter, queries=encounters.queries(encounter),
                           messages=messages, errors=errors or {}, body=body, reasons=REASONS,
                           pending=pending_reasons(encounter)[0] if waiting else []), status


@bp.get("/account/encounters/<encounter_id>")
@signin_required()
def account_encounter(encounter_id):
    return render_account_encounter(encounter_id)


@bp.post("/account/encounters/<encounter_id>/messages")
@signin_required()
def account_message(encounter_id):
    _, errors = submit(NewMessageSchema(), request.form,
                       lambda data: encounters.post_message(page_user(), encounter_id, data["body"]))
    if errors:
        return render_account_encounter(encounter_id, errors, 422, request.form.get("body", ""))
    flash("Sent to your clinician.", "ok")
    return redirect(url_for("web.account_encounter", encounter_id=encounter_id) + "#messages")


@bp.post("/account/encounters/<encounter_id>/cancel")
@signin_required()
def account_cancel_encounter(encounter_id):
    _, errors = attempt(encounters.cancel, page_user(), encounter_id)
    flash_outcome(errors, "Cancelled. Nothing more happens with this question; an open invoice for it is void.")
    return redirect(url_for("web.account_encounter", encounter_id=encounter_id))


@bp.get("/account/billing")
@signin_required()
def account_billing():
    user = page_user()
    subscription = billing.current_subscription(user.id)
    invoices = billing.list_invoices(user, 50, request.args.get("cursor"))
    return render_template("web/billing.html", subscription=subscription, plans=all_plans(),
                           plan=find_plan(subscription.plan) if subscription else None, invoices=invoices)


@bp.post("/account/billing/subscription")
@signin_required()
def account_subscribe():
    if request.form.get("cancel"):
        _, errors = attempt(billing.cancel_subscription, page_user())
        done = "Subscription cancelled."
    else:
        _, errors = attempt(billing.subscribe, page_user(), request.form.get("plan", ""))
        done = "Subscribed. The first invoice is open; clinic staff mark it paid, then the plan starts."
    flash_outcome(errors, done)
    return redirect(url_for("web.account_billing"))
