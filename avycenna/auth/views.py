"""/api/v1/auth: sign in and the caller's own account.

The sign-in endpoints share a tighter per-IP budget (`RATELIMIT_AUTH`) on top of
the usual per-credential one; OTP sends are also limited per address and per IP, and
failed password sign-ins per account — each budget shared with the sign-in page
(`avycenna.auth.limits`).
"""
from flask import current_app
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.audit.service import record
from avycenna.auth import otp, refresh
from avycenna.actor import auth_required, current_actor, current_user
from avycenna.auth.limits import otp_send_limits, password_account_limit, signin_limit
from avycenna.auth.schemas import (LoginSchema, LogoutSchema, OtpSendSchema, OtpSentSchema,
                                   OtpVerifySchema, RefreshSchema, TokenSchema, UpdateMeSchema,
                                   UserSchema)
from avycenna.auth.signin import otp_login, password_login, refresh_login
from avycenna.auth.users import update_profile

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Sign in with a password or an e-mail code; your own account.")



def token_exchange(args_schema):
    """The decorators of a sign-in endpoint: per-IP budget, body, the token response, 401."""
    def decorate(view):
        view = blp.alt_response(401, response="UNAUTHORIZED")(view)
        view = blp.response(200, TokenSchema)(view)
        return signin_limit(blp.arguments(args_schema)(view))
    return decorate


@blp.route("/login")
class Login(MethodView):
    @password_account_limit
    @token_exchange(LoginSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Exchange e-mail and password for an access token and a refresh token."""
        return password_login(body["email"], body["password"])


@blp.route("/otp/send")
class OtpSend(MethodView):
    @signin_limit
    @otp_send_limits
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


def jwt_sign_in():
    """When the caller's access token says it signed in, and its refresh family (none for a key)."""
    from datetime import datetime, timezone

    claims = current_actor().claims or {}
    auth_time = claims.get("auth_time")
    signed_in_at = datetime.fromtimestamp(auth_time, timezone.utc).replace(tzinfo=None) \
        if isinstance(auth_time, int) else None
    return {"signed_in_at": signed_in_at, "keep_family": claims.get("fam")}


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
    @blp.alt_response(403, response="FORBIDDEN")
    def patch(self, body):
        """Change your name or password.

        Setting or changing the password needs `old_password`, or a sign-in (of the access
        token's session) within the last few minutes; an API key alone never can (a 403
        when the proof is missing or wrong). Every other
        sign-in of the account (refresh tokens, browser sessions) ends.
        """
        return update_profile(current_user(), **body, **jwt_sign_in())
