"""Sign in and out of the pages."""
from flask import flash, redirect, render_template, request, url_for

from avycenna.auth.schemas import LoginSchema
from avycenna.auth.signin import password_login
from avycenna.auth.users import find_user_by_email
from avycenna.web import bp
from avycenna.web.forms import attempt, parse
from avycenna.web.sessions import page_user, safe_next, sign_in, sign_out

bp.add_app_template_global(page_user)


@bp.get("/")
def home():
    user = page_user()
    if user is None:
        return redirect(url_for("web.signin"))
    if user.role in ("clinician", "admin"):
        return redirect(url_for("web.console"))
    return redirect(url_for("web.account"))


def render_signin(errors=None, status=200, **values):
    return render_template("web/signin.html", errors=errors or {}, values=values,
                           next=request.values.get("next", "")), status


@bp.get("/signin")
def signin():
    if page_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_signin()


@bp.post("/signin/password")
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
