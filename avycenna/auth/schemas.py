"""Request and response bodies of /api/v1/auth."""
from marshmallow import Schema, fields, validate

from avycenna.schemas import Boolean, ChangeSchema, Name, Timestamp


class LoginSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"example": "you@clinic.com"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String()
    token_type = fields.String(metadata={"example": "bearer"})
    expires_in = fields.Integer(metadata={"example": 900})


class UserSchema(Schema):
    id = fields.String(metadata={"example": "usr_7jRtHvBk2QxZ"})
    email = fields.Email(metadata={"example": "doctor@clinic.com"})
    name = fields.String(metadata={"example": "Dr. Sarah Chen"})
    role = fields.String(metadata={"example": "clinician"})
    created_at = Timestamp(metadata={"example": "2026-01-15T09:00:00Z"})


class UpdateMeSchema(ChangeSchema):
    NOT_CHANGES = ("old_password",)
    name = Name()
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=1024))
    old_password = fields.String(load_only=True, validate=validate.Length(max=1024), metadata={
        "description": "Your current password. Needed to set or change the password unless this "
                       "access token comes from a sign-in within the last few minutes (never enough "
                       "with an API key alone)."})


class ChangePasswordSchema(Schema):
    """The pages' password form: the new password, and the old one unless the sign-in is fresh."""
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=1024))
    old_password = fields.String(load_only=True, validate=validate.Length(max=1024))


class OtpSendSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"example": "you@clinic.com"})


class OtpSentSchema(Schema):
    message = fields.String(metadata={"example": "If this address can sign in, a code is on its way."})
    expires_in = fields.Integer(metadata={"example": 600, "description": "Seconds the code stays valid."})


class OtpVerifySchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"example": "you@clinic.com"})
    otp = fields.String(required=True, load_only=True, metadata={"example": "847291"},
                        validate=validate.Regexp(r"^[0-9]{6}$", error="The code is 6 digits."))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class LogoutSchema(RefreshSchema):
    everywhere = Boolean(load_default=False,
                                metadata={"description": "Revoke every refresh token of the account."})
