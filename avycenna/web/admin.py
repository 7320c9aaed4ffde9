"""Admin pages: accounts (create clinicians, disable), ID-verification requests, invoices."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.admin import users as accounts
from avycenna.auth.models import ROLES
from avycenna.web import bp
from avycenna.web.forms import attempt, parse
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
    data, errors = parse(accounts.NewUserSchema(), request.form)
    if not errors:
        user, errors = attempt(accounts.create_account, data["email"], data["role"], data["name"],
                               data.get("password"))
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
    if errors:
        flash(next(iter(errors.values())), "error")
    else:
        flash(f"{user.email} is {'enabled' if active else 'disabled and signed out everywhere'}.", "ok")
    return redirect(url_for("web.admin_users"))
