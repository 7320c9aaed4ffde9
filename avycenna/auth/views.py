"""/api/v1/auth: sign in and the caller's own account."""
from flask.views import MethodView
from flask_smorest import Blueprint

from avycenna.auth.actor import auth_required, current_user
from avycenna.auth.schemas import LoginSchema, TokenSchema, UpdateMeSchema, UserSchema
from avycenna.auth.signin import password_login
from avycenna.auth.users import update_profile

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Sign in with a password or an e-mail code; your own account.")


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body):
        """Exchange e-mail and password for an access token and a refresh token."""
        return password_login(body["email"], body["password"])


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
