"""Schema pieces every resource uses: timestamps, names, booleans, errors, cursor pages.

Every limit the server enforces on a field is stated in the OpenAPI document by the same
object that enforces it (a marshmallow validator apispec reads, or a pattern built from the
same constants), so the document and the server cannot drift apart: see docs/api.md.
"""
import re
import unicodedata
from datetime import date, datetime
from functools import cached_property, lru_cache

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from avycenna.clock import isoformat, to_naive_utc


def number_range(low, high, width):
    """A regex alternation for the zero-padded numbers low..high of `width` digits."""
    if low > high:
        return None
    if width == 1:
        return f"[{low}-{high}]" if low < high else str(low)
    size = 10 ** (width - 1)
    parts, full = [], []
    for lead in range(low // size, high // size + 1):
        rest_low = low % size if lead == low // size else 0
        rest_high = high % size if lead == high // size else size - 1
        if rest_low == 0 and rest_high == size - 1:
            full.append(lead)
            continue
        parts.append(f"{lead}(?:{number_range(rest_low, rest_high, width - 1)})")
    if full:  # the leads whose every continuation is in range are consecutive
        lead = f"[{full[0]}-{full[-1]}]" if len(full) > 1 else str(full[0])
        parts.append(f"{lead}[0-9]{{{width - 1}}}")
    return "|".join(parts)


def dates_pattern(earliest, latest):
    """A pattern for `YYYY-MM-DD` dates from `earliest` to `latest` (with `format: date` for the
    calendar: the day of the month is only bounded to 01–31 here)."""
    day, month = "(?:0[1-9]|[12][0-9]|3[01])", "(?:0[1-9]|1[0-2])"
    parts = []
    if earliest.year < latest.year:
        if earliest != date(earliest.year, 1, 1):
            raise ValueError("earliest must be a 1 January")
        parts.append(f"(?:{number_range(earliest.year, latest.year - 1, 4)})-{month}-{day}")
    if latest.month > 1:
        parts.append(f"{latest.year:04d}-(?:{number_range(1, latest.month - 1, 2)})-{day}")
    parts.append(f"{latest.year:04d}-{latest.month:02d}-(?:{number_range(1, latest.day, 2)})")
    return "^(?:" + "|".join(parts) + ")$"


class Timestamp(fields.DateTime):
    """ISO 8601 UTC with `Z` out; any ISO 8601 with an offset (or `Z`) in, from EARLIEST to LATEST.

    The bounds hold for the time as written and in UTC: from 1900-01-01 up to 9999-01-01. The
    document states them as a pattern on the written year (what an offset moves across a
    bound is the only part it leaves to the description), and they leave room for date arithmetic (a default window before `end`, a period after a start)
    so no accepted time can overflow Python's datetime range.
    """

    EARLIEST = datetime(1900, 1, 1)
    LATEST = datetime(9999, 1, 1)
    # The years EARLIEST.year … LATEST.year - 1, stated in the document (tests/test_openapi_truth.py
    # checks it against the rule above).
    PATTERN = "^(?:" + number_range(EARLIEST.year, LATEST.year - 1, 4) + ")-"

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", None) or {}
        super().__init__(metadata={"pattern": self.PATTERN, **metadata}, **kwargs)

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
        if not (self.EARLIEST <= parsed.replace(tzinfo=None) < self.LATEST and self.EARLIEST <= utc < self.LATEST):
            raise self.make_error("range")
        return utc

    default_error_messages = {"timezone": "Timestamp needs a timezone, e.g. 2026-01-15T09:00:00Z.",
                              "range": "Timestamp must be from 1900-01-01 up to 9999-01-01."}


INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp")  # control, format (zero-width …), spaces, line breaks
LINE_BREAKS = ("Cc", "Zl", "Zp")  # what a one-line text may not hold


@lru_cache(maxsize=None)
def char_class(categories):
    """The body of a regex character class holding every character of the Unicode `categories` in
    the Basic Multilingual Plane, as \\uXXXX escapes (what every JSON Schema regex engine reads;
    the few such characters beyond it count as visible, on both sides)."""
    ranges, start = [], None
    for code in range(0x10001):
        inside = code <= 0xFFFF and unicodedata.category(chr(code)) in categories
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, code - 1))
            start = None

    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


class Pattern(validate.Validator):
    """A text must match `pattern` as JSON Schema reads one (found anywhere in the text, `$` at
    its very end); apispec states it as the field's `pattern`. `pattern` may be a callable, for
    patterns that are built when the document is (they are cached per process)."""

    def __init__(self, pattern, error="Does not match the pattern.", explain=None):
        self._pattern, self.error, self.explain = pattern, error, explain

    @cached_property
    def regex(self):
        return re.compile(self._pattern() if callable(self._pattern) else self._pattern)

    @cached_property
    def _python(self):  # Python's `$` also matches before a final line break; JSON Schema's does not
        return re.compile(re.sub(r"\$$", r"\\Z", self.regex.pattern))

    def __call__(self, value):
        if not isinstance(value, str) or not self._python.search(value):
            if self.explain is not None:
                self.explain(value)  # raises the precise message
            raise ValidationError(self.error)
        return value


def visible_pattern():
    """Text that shows something: at least one character that is not INVISIBLE."""
    return f"[^{char_class(INVISIBLE)}]"


def name_pattern():
    """One line (nothing of LINE_BREAKS) that shows something."""
    line = f"[^{char_class(LINE_BREAKS)}]*"
    return f"^{line}{visible_pattern()}{line}$"


class ConfigLength(validate.Validator):
    """validate.Length with its bounds read from the app's config (apispec reads min/max the same
    way, when the document is built inside the app context)."""

    equal = None

    def __init__(self, min_key, max_key):
        self.min_key, self.max_key = min_key, max_key

    @property
    def min(self):
        return current_app.config[self.min_key]

    @property
    def max(self):
        return current_app.config[self.max_key]

    def __call__(self, value):
        if not self.min <= len(value) <= self.max:
            raise ValidationError(f"Length must be between {self.min} and {self.max} characters.")
        return value


def is_blank(text):
    """True when `text` shows nothing: only spaces, control, zero-width or line-break characters
    (the document's pattern says the same: it is built from the same class)."""
    return _visible().search(text) is None


@lru_cache(maxsize=None)
def _visible():
    return re.compile(visible_pattern())


def not_blank(value):
    """A validator: refuses text made only of spaces, control or zero-width characters."""
    if is_blank(value):
        raise ValidationError("Cannot be blank.")


@lru_cache(maxsize=None)
def _line_break():
    return re.compile(f"[{char_class(LINE_BREAKS)}]")


def one_line(value):
    """A validator for names, which reach mail headers: no line breaks or control characters."""
    if _line_break().search(value):
        raise ValidationError("May not contain line breaks or control characters.")


def Name(max_length=200, **kwargs):
    """A person's or thing's name: 1–`max_length` characters on one line, not blank.

    The pattern holds both rules and states them in the document; `one_line` and `not_blank`
    (from the same character classes) say which one a refused name broke."""
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   Pattern(name_pattern, "One line of visible text.", _explain_name)], **kwargs)


def _explain_name(value):
    one_line(value)
    not_blank(value)


class Boolean(fields.Boolean):
    """JSON `true` or `false` only: 0/1, "yes" and friends are not booleans."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is not bool:  # 1 == True, so marshmallow's truthy set would take it
            raise self.make_error("invalid", input=value)
        return value


class ChangeSchema(Schema):
    """A PATCH body: every field optional, but at least one change (an empty body is a 422).

    The document states it (`json_schema_keywords`, read by api.SchemaKeywords): `minProperties: 1`,
    and when some fields are not changes by themselves, `anyOf` the changes."""

    NOT_CHANGES = ()  # fields that go with a change without being one (e.g. old_password)

    @validates_schema
    def _some_change(self, data, **kwargs):
        if not set(data) - set(self.NOT_CHANGES):
            raise ValidationError("Send at least one field to change.")

    @classmethod
    def json_schema_keywords(cls):
        """The JSON Schema keywords that say "at least one change"."""
        keywords = {"minProperties": 1}
        if cls.NOT_CHANGES:
            changes = [field.data_key or name for name, field in cls._declared_fields.items()
                       if name not in cls.NOT_CHANGES and not field.dump_only]
            keywords["anyOf"] = [{"required": [name]} for name in changes]
        return keywords


class ErrorSchema(Schema):
    detail = fields.String(required=True, metadata={"example": "Grant not found or access denied."})


class ValidationItemSchema(Schema):
    loc = fields.List(fields.Raw(), metadata={"example": ["body", "email"]})
    msg = fields.String(metadata={"example": "Not a valid email address."})
    type = fields.String(metadata={"example": "value_error.email"})


class ValidationErrorSchema(Schema):
    detail = fields.List(fields.Nested(ValidationItemSchema), required=True)


# Text anywhere (body, path, query) may not hold NUL (http.py refuses it with a 422); the
# document says so on every string that no pattern or format already limits (api.no_nul).
NO_NUL = "^[^\\u0000]*$"

CURSOR_PATTERN = r"^[A-Za-z0-9_.-]{0,200}$"


def Cursor(**kwargs):
    """`?cursor=`: the opaque, signed `next_cursor` of the previous page of the same list.

    No example: only the server makes cursors, and an example that is not one would be a lie."""
    return fields.String(load_default=None, validate=Pattern(CURSOR_PATTERN, "Invalid cursor."), metadata={
        "description": "Opaque: the `next_cursor` of the previous page of this same list, as given "
                       "(only the server makes cursors). A cursor that was altered or comes from "
                       "another list is a 422."}, **kwargs)


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
