"""The account's password and sign-ins: set or change the password (with fresh proof, as the
API asks) and sign out on every device. Both end the account's other sign-ins."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.audit.service import record
from avycenna.auth.schemas import ChangePasswordSchema
from avycenna.auth.sessions import end_sign_ins
from avycenna.auth.users import change_password, fresh
from avycenna.web.blueprint import bp
from avycenna.web.forms import submit
from avycenna.web.sessions import current_browser_session, page_user, sign_out, signin_required


def render_security(errors=None, status=200):
    signed_in_at = current_browser_session().created_at
    return render_template("web/account_security.html", user=page_user(), errors=errors or {},
                           fresh=fresh(signed_in_at)), status


@bp.get("/account/security")
@signin_required()
def account_security():
    return render_security()


@bp.post("/account/password")
@signin_required()
def account_password():
    this = current_browser_session()
    _, errors = submit(ChangePasswordSchema(), request.form, lambda data: change_password(
        page_user(), data["password"], data.get("old_password"), this.created_at, keep_session=this.id))
    if errors:
        return render_security(errors, 422)
    flash("Password saved. Every other device is signed out.", "ok")
    return redirect(url_for("web.account_security"))


@bp.post("/account/signout-everywhere")
@signin_required()
def signout_everywhere():
    user = page_user()
    end_sign_ins(user)
    record("auth.logout", user_id=user.id, everywhere=True)
    sign_out()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("web.signin"))
