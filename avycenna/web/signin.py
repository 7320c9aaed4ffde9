"""Sign in to the pages by e-mail code (or password), and sign out.

The same rules and budgets as the API: `otp.send_code` / `otp.verify_code` and
`password_login`, under the very budgets of the API (`avycenna.auth.limits`): one
count per IP, per address and per account whichever of the two is used.
"""
from flask import current_app, flash, redirect, render_template, request, session, url_for

from avycenna.auth import otp
from avycenna.auth.limits import otp_send_limits, password_account_limit, signin_limit
from avycenna.auth.models import STAFF_ROLES
from avycenna.auth.schemas import LoginSchema, OtpSendSchema, OtpVerifySchema
from avycenna.auth.signin import password_login
from avycenna.auth.users import find_user_by_email
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, parse
from avycenna.web.sessions import page_user, safe_next, sign_in, sign_out

bp.add_app_template_global(page_user)


@bp.get("/")
def home():
    user = page_user()
    if user is None:
        return redirect(url_for("web.signin"))
    if user.role in STAFF_ROLES:
        return redirect(url_for("web.console"))
    return redirect(url_for("web.account"))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own; the icon is the SVG the pages link to."""
    return redirect(url_for("web.static", filename="favicon.svg"), 301)


def render_signin(errors=None, status=200, template="web/signin.html", **values):
    return render_template(template, errors=errors or {}, values=values,
                           next=request.values.get("next", "")), status


@bp.get("/signin")
def signin():
    if page_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_signin()


@bp.post("/signin/code")
@signin_limit
@otp_send_limits
def send_code():
    data, errors = parse(OtpSendSchema(), request.form)
    if errors:
        return render_signin(errors, 422, email=request.form.get("email", ""))
    _, errors = attempt(otp.send_code, data["email"])
    if errors:
        return render_signin({"email": errors[""]}, 503, email=data["email"])
    session["otp_email"] = data["email"]
    return redirect(url_for("web.enter_code", next=request.form.get("next") or None))


@bp.get("/signin/code")
def enter_code():
    email = session.get("otp_email")
    if not email:
        return redirect(url_for("web.signin", next=request.args.get("next") or None))
    minutes = int(current_app.config["OTP_TTL"]) // 60
    return render_signin(template="web/signin_code.html", email=email, minutes=minutes)


@bp.post("/signin/verify")
@signin_limit
def verify_code():
    data, errors = parse(OtpVerifySchema(), request.form)
    if not errors:
        user, errors = attempt(otp.verify_code, data["email"], data["otp"])
    if errors:
        minutes = int(current_app.config["OTP_TTL"]) // 60
        return render_signin({"otp": errors.get("otp") or errors.get("") or errors.get("email")},
                             422 if data is None else 401, template="web/signin_code.html",
                             email=request.form.get("email", ""), minutes=minutes)
    sign_in(user)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/signin/password")
@signin_limit
@password_account_limit
def signin_password():
    data, errors = parse(LoginSchema(), request.form)
    if errors:
        return render_signin(errors, 422, email=request.form.get("email", ""))
    _, errors = attempt(password_login, data["email"], data["password"])
    if errors:
        return render_signin({"password": errors[""]}, 401, email=data["email"])
    sign_in(find_user_by_email(data["email"]))
    return redirect(safe_next(request.form.get("next")))


@bp.post("/signout")
def signout():
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("web.signin"))
