"""Admin pages: accounts (create clinicians, disable), ID-verification requests, invoices."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.admin import users as accounts
from avycenna.auth.models import ROLES
from avycenna.billing import service as billing
from avycenna.patients import service as patients
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.sessions import page_user, signin_required

PAGE_SIZE = 50


@bp.get("/admin")
@signin_required("admin")
def admin_home():
    return redirect(url_for("web.admin_users"))


def render_users(errors=None, status=200, values=None):
    role = request.args.get("role") or None
    page = accounts.list_users(role, PAGE_SIZE, request.args.get("cursor"))
    return render_template("web/admin_users.html", page=page, role=role, errors=errors or {},
                           values=values or {"role": "clinician"}, roles=ROLES), status


@bp.get("/admin/users")
@signin_required("admin")
def admin_users():
    return render_users()


@bp.post("/admin/users")
@signin_required("admin")
def admin_create_user():
    user, errors = submit(accounts.NewUserSchema(), request.form, lambda data: accounts.create_account(
        data["email"], data["role"], data["name"], data.get("password")))
    if errors:
        values = {k: request.form.get(k, "") for k in ("email", "role", "name")}
        return render_users(errors, 422, values)
    flash(f"Account {user.email} created ({user.role}). They can sign in by e-mail code.", "ok")
    return redirect(url_for("web.admin_users"))


@bp.post("/admin/users/<user_id>/active")
@signin_required("admin")
def admin_set_active(user_id):
    active = request.form.get("active") == "true"
    user, errors = attempt(accounts.change_user, page_user(), user_id, is_active=active)
    flash_outcome(errors, not errors and f"{user.email} is {'enabled' if active else 'disabled and signed out everywhere'}.")
    return redirect(url_for("web.admin_users"))


# ID-verification requests -------------------------------------------------------------------

@bp.get("/admin/id-verifications")
@signin_required("admin")
def admin_id_verifications():
    status = request.args.get("status") if request.args.get("status") in ("pending", "verified", "rejected") \
        else "pending"
    page = patients.list_id_verifications(status, PAGE_SIZE, request.args.get("cursor"))
    return render_template("web/admin_id_verifications.html", page=page, status=status)


@bp.post("/admin/id-verifications/<patient_id>/<any(approve, reject):decision>")
@signin_required("admin")
def admin_review_id(patient_id, decision):
    note = request.form.get("note", "").strip() or None
    _, errors = attempt(patients.review_id_verification, page_user(), patient_id, decision == "approve", note)
    flash_outcome(errors, f"ID {'approved' if decision == 'approve' else 'rejected'}.")
    return redirect(url_for("web.admin_id_verifications"))


# Invoices -----------------------------------------------------------------------------------

@bp.get("/admin/invoices")
@signin_required("admin")
def admin_invoices():
    status = request.args.get("status") if request.args.get("status") in ("open", "paid", "void") else "open"
    page = billing.all_invoices(PAGE_SIZE, request.args.get("cursor"), status)
    return render_template("web/admin_invoices.html", page=page, status=status)


@bp.post("/admin/invoices/<invoice_id>/mark-paid")
@signin_required("admin")
def admin_mark_paid(invoice_id):
    invoice, errors = attempt(billing.mark_paid, page_user(), invoice_id)
    flash_outcome(errors, f"Invoice {invoice_id} is marked paid.")
    return redirect(url_for("web.admin_invoices"))
