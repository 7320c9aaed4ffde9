"""FHIR search parameters → plain values. A bad parameter is a 400 OperationOutcome naming it.

Unknown parameters are refused (a typo would otherwise widen a search silently) unless the
client sends `Prefer: handling=lenient`, as the FHIR search spec allows.

Dates and dateTimes are read into epoch milliseconds. They may name any instant from
0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (UTC), what a Python datetime holds; the
end of the period one covers (all of 9999, say) is reckoned in milliseconds, so it never
needs a datetime past that. Anything outside is a 400, before the caller's access is looked at.
"""
import calendar
import re
from datetime import datetime, timezone

from flask import request

from avycenna.errors import ApiError, fail
from avycenna.fhir.mapping import OBSERVATIONS, stages_for_code, types_for_category, types_for_code

DEFAULT_COUNT, MAX_COUNT = 100, 1000
ROLLUPS = ("hour", "day")
NOT_ROLLED_UP = ("sleep", "workout")  # intervals and sessions: always returned as recorded
PREFIXES = ("eq", "ge", "gt", "le", "lt")
DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
COUNT = re.compile(r"^[0-9]{1,4}$")  # ASCII digits only: int() takes other scripts' digits, or fails on them
FAR_FUTURE_MS = 253402300799000  # 9999-12-31T23:59:59Z
END_MS = 253402300800000  # 10000-01-01T00:00:00Z: just past the last instant a Python datetime holds
SECOND_MS, DAY_MS = 1000, 86_400_000
EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc)  # the first instant a Python datetime holds
END = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)  # the last instant, itself allowed
COMMON = ("_count", "cursor", "_format")
JSON_FORMATS = ("json", "application/json", "application/fhir+json")
ACCEPTED = ("application/fhir+json", "application/json", "application/json+fhir")


def bad(name, msg):
    """A 400 naming the parameter (OperationOutcome issue with `expression`)."""
    error = ApiError(400, msg)
    error.data = {"detail": [{"loc": ["query", name], "msg": msg, "type": "value_error"}]}
    raise error


def check_format():
    """406 unless the request accepts JSON: `_format` (json, application/json,
    application/fhir+json) and the `Accept` header (which may also allow anything, */*)."""
    formats = request.args.getlist("_format")
    if any(value.strip() not in JSON_FORMATS for value in formats):
        fail(406, "Only JSON is offered (_format=json or application/fhir+json).")
    if formats or not request.headers.get("Accept", "").strip():
        return  # _format overrides the Accept header (FHIR http.html#mime-type)
    if request.accept_mimetypes.best_match(ACCEPTED) is None:
        fail(406, "Only JSON is offered: accept application/fhir+json (or application/json).")


def check_known(allowed):
    if "handling=lenient" in request.headers.get("Prefer", "").replace(" ", ""):
        return
    for name in request.args:
        if name not in allowed and name not in COMMON:
            bad(name, f"Unknown search parameter '{name}' (send 'Prefer: handling=lenient' to ignore it).")


def one(name, required=False):
    values = request.args.getlist(name)
    if len(values) > 1:
        bad(name, f"'{name}' may be given once.")
    if required and not (values and values[0].strip()):
        bad(name, f"'{name}' is required.")
    return values[0].strip() if values else None


def count(allow_zero=True):
    """`_count`: the page size; 0 (a search's total only, as FHIR allows) unless `allow_zero` is off."""
    raw = one("_count")
    if raw is None:
        return DEFAULT_COUNT
    low = 0 if allow_zero else 1
    if not COUNT.match(raw) or not low <= int(raw) <= MAX_COUNT:
        bad("_count", f"_count must be a whole number from {low} to {MAX_COUNT}.")
    return int(raw)


def patient_id(name="patient"):
    value = one(name, required=True)
    return value[len("Patient/"):] if value.startswith("Patient/") else value


def _ms(value):
    """An aware datetime → epoch ms (as the samples' times were stored: `clock.iso_to_ms`)."""
    return int(value.timestamp() * 1000)


def _days(year, month, day):
    """How many days the date `year[-month[-day]]` covers."""
    if day:
        return 1
    if month:
        return calendar.monthrange(year, month)[1]
    return 366 if calendar.isleap(year) else 365


def instant_range(text, name):
    """[lower, upper) epoch ms a FHIR date/dateTime covers at its precision (no zone = UTC)."""
    match = DATE.match(text)
    if match:
        year, month, day = (int(p) if p else None for p in match.groups())
        try:
            lower = _ms(datetime(year, month or 1, day or 1, tzinfo=timezone.utc))
        except ValueError:
            bad(name, f"Not a valid date: '{text}' (years 0001 to 9999).")
        return lower, lower + _days(year, month, day) * DAY_MS
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        bad(name, f"Not a valid date or dateTime: '{text}' (e.g. 2026-11-20 or 2026-11-20T08:00:00Z).")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    if not EARLIEST <= value <= END:  # exact (in UTC, whatever its offset), before any float
        bad(name, f"'{text}' is outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.")
    lower = min(_ms(value), END_MS - 1)  # the float can round 9999-12-31T23:59:59.9999995 up to the end
    step = 1 if value.microsecond else (SECOND_MS if text.count(":") >= 2 else 60 * SECOND_MS)
    return lower, min(lower + step, END_MS)


def date_filters(name="date"):
    """[(prefix, lower_ms, upper_ms)] of every `name` parameter: the prefix and the range the
    value names (2026-11-20 is that whole day, [lower, upper)). `match_range` applies them."""
    found = []
    for raw in request.args.getlist(name):
        prefix, text = (raw[:2], raw[2:]) if raw[:2] in PREFIXES else ("eq", raw)
        lower, upper = instant_range(text.strip(), name)
        found.append((prefix, lower, upper))
    return found


def range_conditions(filters, start, end):
    """FHIR's rule for a target with a range [start, end) (a Period, a day, an instant as one
    millisecond) against date filters: eq — the search range contains the target; ge — the
    target reaches the search value or later (end > lower); gt — it reaches past the search
    range (end > upper); le — it begins before the search range ends (start < upper); lt — it
    begins before the search value (start < lower). So an interval is found by overlap: a sleep
    from 23:10 to 00:10 is found by `ge` the next day. `start`/`end` may be numbers or SQL
    expressions; returns the conditions (all must hold)."""
    conditions = []
    for prefix, lower, upper in filters:
        if prefix == "eq":
            conditions += [start >= lower, end <= upper]
        elif prefix == "ge":
            conditions.append(end > lower)
        elif prefix == "gt":
            conditions.append(end > upper)
        elif prefix == "le":
            conditions.append(start < upper)
        else:  # lt
            conditions.append(start < lower)
    return conditions


def start_before(filters):
    """The least upper bound on a target's start the filters imply (for an index range)."""
    bound = FAR_FUTURE_MS + 1
    for prefix, lower, upper in filters:
        bound = min(bound, lower if prefix == "lt" else upper if prefix in ("eq", "le") else bound)
    return bound


def date_bounds(name="date"):
    """[start_ms, end_ms) from repeated `date=ge…&date=lt…` (each with an optional prefix)."""
    start, end = 0, FAR_FUTURE_MS
    for raw in request.args.getlist(name):
        prefix, text = (raw[:2], raw[2:]) if raw[:2] in PREFIXES else ("eq", raw)
        lower, upper = instant_range(text.strip(), name)
        if prefix in ("eq", "ge"):
            start = max(start, lower)
        if prefix == "gt":
            start = max(start, upper)
        if prefix in ("eq", "le"):
            end = min(end, upper)
        if prefix == "lt":
            end = min(end, lower)
    return start, end


def _token_types(name, lookup):
    """Types matching every `name` parameter (each a comma-separated OR list)."""
    types = set(OBSERVATIONS)
    for raw in request.args.getlist(name):
        tokens = [t.strip() for t in raw.split(",") if t.strip()]
        if not tokens:
            bad(name, f"'{name}' needs a value.")
        types &= set().union(*(lookup(t) for t in tokens))
    return types


def sleep_stages():
    """The sleep stages the `code` parameters ask for, or None for every stage."""
    tokens = [t.strip() for raw in request.args.getlist("code") for t in raw.split(",") if t.strip()]
    stages = set().union(*(stages_for_code(t) for t in tokens)) if tokens else set()
    return sorted(stages) or None


def rollup():
    value = one("rollup")
    if value is not None and value not in ROLLUPS:
        bad("rollup", "rollup must be 'hour' or 'day'.")
    return value


def observation_search():
    """The Observation search: patient, code, category, date, rollup, _count, cursor."""
    check_known(("patient", "subject", "code", "category", "date", "rollup"))
    if "subject" in request.args and "patient" not in request.args:
        pid = patient_id("subject")
    else:
        pid = patient_id()
    types = _token_types("code", types_for_code) & _token_types("category", types_for_category)
    start_ms, end_ms = date_bounds()
    dates = date_filters()
    bucket = rollup()
    if bucket and types and types <= set(NOT_ROLLED_UP):
        bad("rollup", "Sleep and workouts are not rolled up; search them without 'rollup'.")
    if bucket:
        types -= set(NOT_ROLLED_UP)
    return {"patient_id": pid, "types": sorted(types), "stages": sleep_stages(), "start_ms": start_ms,
            "end_ms": end_ms, "dates": dates, "rollup": bucket, "count": count(), "cursor": one("cursor")}


# Patient search --------------------------------------------------------------------------------

STRINGS = ("name", "family", "given")
STRING_MODIFIERS = ("", ":exact", ":contains")
GENDER_CODES = {"female": ("female",), "male": ("male",), "other": ("intersex",), "unknown": ("unknown",)}
PATIENT_PARAMS = ("_id", "identifier", "birthdate", "gender") + tuple(
    name + modifier for name in STRINGS for modifier in STRING_MODIFIERS)
IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"  # a Patient's identifier: its id as urn:uuid:…


def _tokens(name):
    """Every `name` parameter as a list of its comma-separated values (each parameter: any of them)."""
    lists = []
    for raw in request.args.getlist(name):
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            bad(name, f"'{name}' needs a value.")
        lists.append(values)
    return lists


def _identifier_ids(token):
    system, bar, value = token.rpartition("|")
    if bar and system not in ("", IDENTIFIER_SYSTEM):
        return set()
    return {value[len("urn:uuid:"):]} if value.startswith("urn:uuid:") else set()


def patient_search():
    """The Patient search: `_id`, `identifier` (`urn:ietf:rfc:3986|urn:uuid:{id}`), `name`,
    `family`, `given` (each `:exact` or `:contains` too), `birthdate` (with prefixes), `gender`,
    `_count`, cursor. Repeated parameters all apply (and); commas within one are or."""
    check_known(PATIENT_PARAMS)
    ids = None
    for values in _tokens("_id"):
        ids = set(values) if ids is None else ids & set(values)
    for values in _tokens("identifier"):
        found = set().union(*(_identifier_ids(v) for v in values))
        ids = found if ids is None else ids & found
    genders = None
    for values in _tokens("gender"):
        unknown = [v for v in values if v not in GENDER_CODES]
        if unknown:
            bad("gender", f"gender is one of {', '.join(GENDER_CODES)}.")
        found = {sex for v in values for sex in GENDER_CODES[v]}
        genders = found if genders is None else genders & found
    strings = [(name, modifier or ":starts", [v.casefold() for v in values])
               for name in STRINGS for modifier in STRING_MODIFIERS for values in _tokens(name + modifier)]
    return {"ids": ids, "genders": genders, "strings": strings, "birthdate": date_filters("birthdate"),
            "count": count(), "cursor": one("cursor")}


def everything_search():
    """$everything: start, end (of Observations' dates), _count, cursor."""
    check_known(("start", "end"))
    start_ms = instant_range(one("start"), "start")[0] if one("start") else 0
    end_ms = instant_range(one("end"), "end")[1] if one("end") else FAR_FUTURE_MS
    return {"start_ms": start_ms, "end_ms": end_ms, "count": count(allow_zero=False), "cursor": one("cursor")}
