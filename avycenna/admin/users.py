"""/api/v1/admin/users: admins list, create, change and disable accounts.

Disabling an account stops it at once: the credential check refuses its access
tokens and API keys on the next request, and its refresh tokens are revoked.
"""
from flask.views import MethodView
from avycenna.blueprint import Blueprint
from marshmallow import Schema, fields, validate

from avycenna.audit.service import record
from avycenna.actor import auth_required, current_user
from avycenna.auth.models import ROLES, User
from avycenna.auth.refresh import revoke_all
from avycenna.auth.schemas import UserSchema
from avycenna.auth.users import create_user
from avycenna.clock import utcnow
from avycenna.db import locked, transaction
from avycenna.errors import fail, not_found
from avycenna.pagination import paginate
from avycenna.signals import access_narrowed
from avycenna.schemas import Boolean, ChangeSchema, Name, PageArgs, Timestamp, page_schema

blp = Blueprint("admin_users", __name__, url_prefix="/api/v1/admin/users",
                description="Accounts, for admins: list, create clinicians and admins, disable.")


class AdminUserSchema(UserSchema):
    is_active = Boolean()
    disabled_at = Timestamp(allow_none=True)


class UserListArgs(PageArgs):
    role = fields.String(validate=validate.OneOf(ROLES))


class NewUserSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = Name(load_default="")
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=1024),
                             metadata={"description": "Omit to let the account sign in by e-mail code only."})


class UserChangeSchema(ChangeSchema):
    name = Name()
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = Boolean(metadata={"description": "false disables the account at once."})


def list_users(role, limit, cursor):
    query = User.select()
    if role:
        query = query.where(User.role == role)
    return paginate(query, (User.created_at, User.id), limit, cursor)


def create_account(email, role, name="", password=None):
    """An admin creates an account (409 when the e-mail is taken); audited."""
    user = create_user(email, role=role, name=name, password=password)
    record("user.create", target_type="user", target_id=user.id, role=user.role)
    return user


@transaction
def change_user(admin, user_id, name=None, role=None, is_active=None):
    """Apply an admin's change; an admin cannot disable or demote themself.

    The account is read under a row lock and only the changed columns are written, so a
    concurrent change (another admin, the user's own profile edit) is never overwritten.
    """
    user = locked(User.select().where(User.id == user_id)).first() or not_found("User not found.")
    if user.id == admin.id and (is_active is False or role not in (None, "admin")):
        fail(409, "You cannot disable or demote your own account.")  # who asks, not what: no 422
    was_active, changes = user.is_active, {}
    if name is not None:
        changes["name"] = name
    if role is not None:
        changes["role"] = role
    if is_active is not None and is_active != was_active:
        changes.update(is_active=is_active, disabled_at=None if is_active else utcnow())
        if not is_active:
            revoke_all(user)
    if changes:
        User.update(**changes).where(User.id == user.id).execute()
        for field, value in changes.items():
            setattr(user, field, value)
    if was_active != user.is_active:
        record("user.disable" if was_active else "user.enable", target_type="user", target_id=user.id)
    if role is not None:
        record("user.role_change", target_type="user", target_id=user.id, role=role)
    if not user.is_active or (role is not None and role != "clinician"):
        access_narrowed.send("admin", user_id=user.id)  # its exports are judged again now
    return user


@blp.route("")
class Users(MethodView):
    @auth_required("admin")
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, page_schema(AdminUserSchema, "AdminUserPage"))
    def get(self, args):
        """List accounts, oldest first, optionally of one role."""
        return list_users(args.get("role"), args["limit"], args["cursor"])

    @auth_required("admin")
    @blp.arguments(NewUserSchema)
    @blp.response(201, AdminUserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Create an account (a clinician, another admin, or a member)."""
        return create_account(body["email"], body["role"], body["name"], body.get("password"))


@blp.route("/<string:user_id>")
class UserItem(MethodView):
    @auth_required("admin")
    @blp.arguments(UserChangeSchema)
    @blp.response(200, AdminUserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body, user_id):
        """Change an account's name or role, or disable / re-enable it."""
        return change_user(current_user(), user_id, **body)
