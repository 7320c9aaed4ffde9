"""Forms read by the API's own schemas, and service errors shown next to the field.

A page never re-states a rule: it loads the form through the marshmallow schema the
API endpoint uses, then calls the same service function. Errors come back as
`{field: message}` for the template (`""` holds a message for the whole form).
"""
from marshmallow import ValidationError, fields

from avycenna.errors import ApiError


def _first(messages):
    while isinstance(messages, (list, tuple)) and messages:
        messages = messages[0]
    if isinstance(messages, dict):
        return _first(next(iter(messages.values()), ""))
    return str(messages)


def _value(form, name, field):
    """A form value as the schema expects it; None when left empty."""
    if isinstance(field, fields.List):
        values = [v.strip() for v in form.getlist(name) if v.strip()]
        return values or None
    value = form.get(name, "")
    if not value.strip():
        return None
    return value if "password" in name else value.strip()


def parse(schema, form):
    """(data, errors): the form's filled-in fields loaded by `schema`."""
    values = {name: _value(form, name, field) for name, field in schema.fields.items()
              if not field.dump_only}
    raw = {name: value for name, value in values.items() if value is not None}
    try:
        return schema.load(raw), {}
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"": error.messages}
        return None, {("" if name == "_schema" else name): _first(msgs)
                      for name, msgs in messages.items()}


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


def submit(schema, form, action):
    """(result, errors): load `form` by `schema`, then call `action(data)` (errors as for `attempt`)."""
    data, errors = parse(schema, form)
    if errors:
        return None, errors
    return attempt(action, data)


def flash_outcome(errors, done):
    """Flash the first error, or `done` when there was none."""
    from flask import flash

    flash(next(iter(errors.values())) if errors else done, "error" if errors else "ok")
