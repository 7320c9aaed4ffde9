"""Forms read by the API's own schemas, and service errors shown next to the field.

A page never re-states a rule: it loads the form through the marshmallow schema the
API endpoint uses, then calls the same service function. Errors come back as
`{field: message}` for the template (`""` holds a message for the whole form).
"""
import re

from marshmallow import ValidationError, fields

from avycenna.errors import ApiError

REQUIRED = "This field is required."
# marshmallow's wording → plain words for the pages (the API keeps marshmallow's).
PLAIN = [
    (re.compile(r"Missing data for required field\.|Field may not be null\."), lambda m: REQUIRED),
    (re.compile(r"Length must be between [01] and (\d+)\.|Longer than maximum length (\d+)\."),
     lambda m: f"At most {m.group(1) or m.group(2)} characters."),
    (re.compile(r"Length must be between (\d+) and (\d+)\."), lambda m: f"Between {m.group(1)} and {m.group(2)} characters."),
    (re.compile(r"Shorter than minimum length (\d+)\."), lambda m: f"At least {m.group(1)} characters."),
    (re.compile(r"Not a valid email address\."), lambda m: "Enter an e-mail address like name@example.com."),
    (re.compile(r"Not a valid date\."), lambda m: "Enter a date (year-month-day)."),
    (re.compile(r"Must be one of: .*"), lambda m: "Choose one of the options."),
    (re.compile(r"Not a valid (string|integer|number|boolean)\."), lambda m: "This value is not valid."),
]


def plain(message):
    """A schema's message in plain words (unknown messages — the API's own rules — pass as they are)."""
    for pattern, words in PLAIN:
        match = pattern.fullmatch(message)
        if match:
            return words(match)
    return message


def _first(messages):
    while isinstance(messages, (list, tuple)) and messages:
        messages = messages[0]
    if isinstance(messages, dict):
        return _first(next(iter(messages.values()), ""))
    return plain(str(messages))


def _value(form, name, field):
    """A form value as the schema expects it; None when left empty."""
    if isinstance(field, fields.List):
        values = [v.strip() for v in form.getlist(name) if v.strip()]
        return values or None
    value = form.get(name, "")
    if not value.strip():
        return None
    if isinstance(field, fields.Boolean):  # a checkbox: JSON booleans are strict, a form sends text
        return value.strip().lower() in ("true", "on")
    return value if "password" in name else value.strip()


def parse(schema, form, required_by=None):
    """(data, errors): the form's filled-in fields loaded by `schema`.

    An edit form loads by a partial schema, where an empty field means "unchanged"; with
    `required_by` (the create schema) a field it requires that the form sent emptied is an error.
    """
    values = {name: _value(form, name, field) for name, field in schema.fields.items()
              if not field.dump_only}
    raw = {name: value for name, value in values.items() if value is not None}
    emptied = {name: REQUIRED for name, value in values.items()
               if value is None and name in form and required_by is not None
               and name in required_by.fields and required_by.fields[name].required}
    try:
        data = schema.load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"": error.messages}
        return None, {**emptied, **{("" if name == "_schema" else name): _first(msgs)
                                    for name, msgs in messages.items()}}
    return (None, emptied) if emptied else (data, {})


def service_errors(error: ApiError):
    """An ApiError from a service function as form errors."""
    detail = (getattr(error, "data", None) or {}).get("detail")
    if isinstance(detail, list):
        errors = {}
        for item in detail:
            loc = item.get("loc") or []
            errors.setdefault(loc[-1] if len(loc) > 1 else "", item.get("msg", ""))
        return errors
    return {"": error.description}


def attempt(action, *args, **kwargs):
    """(result, errors): call a service function, turning its ApiError into form errors.

    Only client errors become form errors; a 5xx is re-raised to the error page.
    """
    try:
        return action(*args, **kwargs), {}
    except ApiError as error:
        if error.code >= 500:
            raise
        return None, service_errors(error)


def submit(schema, form, action, required_by=None):
    """(result, errors): load `form` by `schema`, then call `action(data)` (errors as for `attempt`)."""
    data, errors = parse(schema, form, required_by)
    if errors:
        return None, errors
    return attempt(action, data)


def flash_outcome(errors, done):
    """Flash the first error, or `done` when there was none."""
    from flask import flash

    flash(next(iter(errors.values())) if errors else done, "error" if errors else "ok")
