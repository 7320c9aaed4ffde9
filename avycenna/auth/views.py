"""/api/v1/auth: sign in and the caller's own account.

The sign-in endpoints share a tighter per-IP budget (`RATELIMIT_AUTH`) on top of
the usual per-credential one; OTP sends are also limited per address and per IP.
"""
import hashlib

from flask import current_app, request
from flask.views import MethodView
from avycenna.api import Blueprint

from avycenna.audit.service import record
from avycenna.auth import otp, refresh
from avycenna.auth.actor import auth_required, current_user
from avycenna.auth.schemas import (LoginSchema, LogoutSchema, OtpSendSchema, OtpSentSchema,
                                   OtpVerifySchema, RefreshSchema, TokenSchema, UpdateMeSchema,
                                   UserSchema)
from avycenna.auth.signin import otp_login, password_login, refresh_login
from avycenna.auth.users import normalize_email, update_profile
from avycenna.ratelimit import config_limit, ip_key, limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Sign in with a password or an e-mail code; your own account.")

signin_limit = limiter.shared_limit(config_limit("RATELIMIT_AUTH"), scope="auth", key_func=ip_key,
                                    override_defaults=False)


def token_exchange(args_schema):
    """The decorators of a sign-in endpoint: per-IP budget, body, the token response, 401."""
    def decorate(view):
        view = blp.alt_response(401, response="UNAUTHORIZED")(view)
        view = blp.response(200, TokenSchema)(view)
        return signin_limit(blp.arguments(args_schema)(view))
    return decorate


def otp_email_key():
    """The address an OTP is requested for, hashed (no addresses in the limit storage)."""
    body = request.get_json(silent=True) or request.form  # the sign-in page posts a form
    email = body.get("email") if hasattr(body, "get") else None
    email = normalize_email(email) if isinstance(email, str) else ""
    return "otp-email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


@blp.route("/login")
class Login(MethodView):
    @token_exchange(LoginSchema)
    def post(self, body):
        """Exchange e-mail and password for an access token and a refresh token."""
        return password_login(body["email"], body["password"])


@blp.route("/otp/send")
class OtpSend(MethodView):
    @signin_limit
    @limiter.limit(config_limit("RATELIMIT_OTP_EMAIL"), key_func=otp_email_key, override_defaults=False,
                   deduct_when=lambda response: response.status_code == 202)
    @limiter.limit(config_limit("RATELIMIT_OTP_IP"), key_func=ip_key, override_defaults=False)
    @blp.arguments(OtpSendSchema)
    @blp.response(202, OtpSentSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Mail a 6-digit sign-in code (the same answer whether or not the account exists)."""
        otp.send_code(body["email"])
        return {"message": "If this address can sign in, a code is on its way.",
                "expires_in": int(current_app.config["OTP_TTL"])}


@blp.route("/otp/verify")
class OtpVerify(MethodView):
    @token_exchange(OtpVerifySchema)
    def post(self, body):
        """Exchange the mailed code for tokens; the first sign-in creates a member account."""
        return otp_login(body["email"], body["otp"])


@blp.route("/refresh")
class Refresh(MethodView):
    @token_exchange(RefreshSchema)
    def post(self, body):
        """Exchange a refresh token for new tokens; the old one stops working."""
        return refresh_login(body["refresh_token"])


@blp.route("/logout")
class Logout(MethodView):
    @signin_limit
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body):
        """Revoke this sign-in's refresh tokens, or every sign-in with `everywhere`."""
        user = refresh.logout(body["refresh_token"], everywhere=body["everywhere"])
        record("auth.logout", user_id=user.id, everywhere=body["everywhere"])


@blp.route("/me")
class Me(MethodView):
    @auth_required()
    @blp.response(200, UserSchema)
    def get(self):
        """Your account."""
        return current_user()

    @auth_required()
    @blp.arguments(UpdateMeSchema)
    @blp.response(200, UserSchema)
    def patch(self, body):
        """Change your name or password (the old password is needed when one is set)."""
        return update_profile(current_user(), **body)
