"""Schema pieces every resource uses: timestamps, names, booleans, errors, cursor pages."""
import unicodedata
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avycenna.clock import isoformat, to_naive_utc


class Timestamp(fields.DateTime):
    """ISO 8601 UTC with `Z` out; any ISO 8601 with an offset (or `Z`) in, from EARLIEST to LATEST.

    The bounds leave room for date arithmetic (a default window before `end`, a period
    after a start) so no accepted time can overflow Python's datetime range.
    """

    EARLIEST = datetime(1900, 1, 1)
    LATEST = datetime(9999, 1, 1)

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise self.make_error("timezone")
        try:
            utc = to_naive_utc(parsed)
        except OverflowError:
            raise self.make_error("range") from None
        if not self.EARLIEST <= utc < self.LATEST:
            raise self.make_error("range")
        return utc

    default_error_messages = {"timezone": "Timestamp needs a timezone, e.g. 2026-01-15T09:00:00Z.",
                              "range": "Timestamp must be from 1900-01-01 up to 9999-01-01 (UTC)."}


INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp")  # control, format (zero-width …), spaces, line breaks


def is_blank(text):
    """True when `text` shows nothing: only spaces, control, zero-width or line-break characters."""
    return all(unicodedata.category(char) in INVISIBLE for char in text)


def not_blank(value):
    """A validator: refuses text made only of spaces, control or zero-width characters."""
    if is_blank(value):
        raise ValidationError("Cannot be blank.")


def one_line(value):
    """A validator for names, which reach mail headers: no line breaks or control characters."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValidationError("May not contain line breaks or control characters.")


def Name(max_length=200, **kwargs):
    """A person's or thing's name: 1–`max_length` characters on one line, not blank."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), one_line, not_blank], **kwargs)


class Boolean(fields.Boolean):
    """JSON `true` or `false` only: 0/1, "yes" and friends are not booleans."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is not bool:  # 1 == True, so marshmallow's truthy set would take it
            raise self.make_error("invalid", input=value)
        return value


class ChangeSchema(Schema):
    """A PATCH body: every field optional, but at least one change (an empty body is a 422)."""

    NOT_CHANGES = ()  # fields that go with a change without being one (e.g. old_password)

    @validates_schema
    def _some_change(self, data, **kwargs):
        if not set(data) - set(self.NOT_CHANGES):
            raise ValidationError("Send at least one field to change.")


class ErrorSchema(Schema):
    detail = fields.String(required=True, metadata={"example": "Grant not found or access denied."})


class ValidationItemSchema(Schema):
    loc = fields.List(fields.Raw(), metadata={"example": ["body", "email"]})
    msg = fields.String(metadata={"example": "Not a valid email address."})
    type = fields.String(metadata={"example": "value_error.email"})


class ValidationErrorSchema(Schema):
    detail = fields.List(fields.Nested(ValidationItemSchema), required=True)


CURSOR_PATTERN = r"^[A-Za-z0-9_.-]{0,200}$"


def Cursor(**kwargs):
    """`?cursor=`: the opaque, signed `next_cursor` of the previous page of the same list."""
    return fields.String(load_default=None, validate=validate.Regexp(CURSOR_PATTERN), metadata={
        "description": "Opaque: the `next_cursor` of the previous page of this same list, as given. "
                       "A cursor that was altered or comes from another list is a 422.",
        "example": "WyIyMDI2LTExLTIwVDA4OjAwOjAwIiwiZ3J0XzEiXQ.5hq3M4y0lYk1bqjYw6n9R1ZcT0E"}, **kwargs)


class PageArgs(Schema):
    """`?limit=&cursor=` for keyset-paginated lists."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Cursor()


def page_schema(item_schema, name):
    """`{"data": [...], "next_cursor": …}` for one item schema."""
    return Schema.from_dict({
        "data": fields.List(fields.Nested(item_schema)),
        "next_cursor": fields.String(allow_none=True, metadata={
            "description": "Pass as `?cursor=` for the next page; null on the last page.",
            "pattern": CURSOR_PATTERN}),
    }, name=name)


def whole_list(items):
    """A short list that always fits one page, in the list shape every list has."""
    return {"data": list(items), "next_cursor": None}
