"""Fast validation of ingest bodies (plain code: marshmallow per sample is too slow).

`parse_body` turns a JSON body into rows `(type, start_ms, end_ms, value, value2)`
in canonical units (a workout row adds a sixth item, its details as JSON text), or raises `SampleError` naming the first bad place. The basic
form is `samples: [{type, start, end?, value, unit}]`; the compact form is
`series: [{type, unit, start: [...], end?: [...], value: [...]}]` with parallel
arrays (times as ISO 8601 strings or epoch milliseconds).
"""
import json
from datetime import datetime, timezone
from itertools import repeat
from math import isnan

from avycenna.clock import utcnow
from avycenna.wearables.types import SLEEP_STAGES, STAGE_CODE, TYPES, WORKOUT_FIELDS, identity

MAX_SAMPLES = 10_000
MAX_FUTURE_MS = 24 * 3600 * 1000  # clock skew allowed on a device
MIN_MS = 946684800000  # 2000-01-01: earlier times are a device error
MAX_INTERVAL_MS = 7 * 24 * 3600 * 1000
NUMBER_TYPES = (int, float)
NUMBER_KINDS, INT_ONLY = frozenset(NUMBER_TYPES), frozenset((int,))
SAMPLE_FIELDS = frozenset(("type", "start", "end", "value", "unit"))
SERIES_FIELDS = frozenset(("type", "unit", "start", "end", "value"))


class SampleError(Exception):
    """A bad place in the body: `loc` below "body", a message and a type."""

    def __init__(self, loc, msg, type_="value_error"):
        super().__init__(msg)
        self.loc, self.msg, self.type = list(loc), msg, type_


class TooMany(Exception):
    pass


def to_ms(value, loc):
    """ISO 8601 with an offset, or integer epoch milliseconds → epoch milliseconds."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise SampleError(loc, "Not a valid datetime.", "value_error.datetime")
        if parsed.tzinfo is None:
            raise SampleError(loc, "Timestamp needs a timezone, e.g. 2026-01-15T09:00:00Z.",
                              "value_error.datetime")
        return int(parsed.timestamp() * 1000)
    if type(value) is int:
        return value
    raise SampleError(loc, "Not a valid datetime.", "value_error.datetime")


def _number(value, loc):
    kind = type(value)
    if kind is float or kind is int:
        return value
    raise SampleError(loc, "Not a valid number.", "type_error.number")


class Checker:
    """Converts and checks one sample's value for a type and unit."""

    def __init__(self, type_name, unit, loc):
        spec = TYPES.get(type_name) if type(type_name) is str else None
        if spec is None:
            raise SampleError(loc + ["type"], "Unknown sample type; see GET /api/v1/wearables/types.",
                              "value_error.type")
        self.spec = spec
        self.convert = None
        if not spec.interval:
            self.convert = spec.converter(unit) if type(unit) is str else None
            if self.convert is None:
                raise SampleError(loc + ["unit"], f"Unit not accepted for {spec.name}; use one of: "
                                  + ", ".join([spec.unit, *spec.conversions]) + ".", "value_error.unit")
        elif unit not in (None, spec.unit):
            raise SampleError(loc + ["unit"], f"{spec.description.split(':')[0]} samples take no unit "
                              f"(or \"{spec.unit}\").", "value_error.unit")
        self.now_ms = _now_ms()
        # For the inlined path in parse_samples: a number with no end.
        self.plain = not spec.interval and spec.name != "blood_pressure"
        self.name, self.low, self.high = spec.name, spec.low, spec.high
        self.latest_ms = self.now_ms + MAX_FUTURE_MS

    def value(self, raw, loc):
        """(value, value2) in canonical units, or SampleError."""
        spec = self.spec
        if spec.name == "workout":
            return workout_value(raw, loc), None
        if spec.interval:
            code = STAGE_CODE.get(raw) if type(raw) is str else None
            if code is None:
                raise SampleError(loc, "Sleep stage must be one of: " + ", ".join(SLEEP_STAGES) + ".",
                                  "value_error.stage")
            return code, None
        if spec.name == "blood_pressure":
            if type(raw) is not dict or set(raw) != {"systolic", "diastolic"}:
                raise SampleError(loc, "Blood pressure needs {\"systolic\", \"diastolic\"}.", "type_error.dict")
            systolic = self._range(self.convert(_number(raw["systolic"], loc + ["systolic"])), loc + ["systolic"])
            diastolic = self._range(self.convert(_number(raw["diastolic"], loc + ["diastolic"])),
                                    loc + ["diastolic"])
            if diastolic >= systolic:
                raise SampleError(loc, "Diastolic must be below systolic.", "value_error.implausible")
            return systolic, diastolic
        return self._range(self.convert(_number(raw, loc)), loc), None

    def _range(self, value, loc):
        spec = self.spec
        if not (spec.low <= value <= spec.high):  # also rejects NaN
            raise SampleError(loc, f"Implausible {spec.name}: {value:g} {spec.unit} is outside "
                              f"{spec.low:g}–{spec.high:g}.", "value_error.implausible")
        return value

    def times(self, start, end, start_loc, end_loc):
        """(start_ms, end_ms or None), checked."""
        start_ms = to_ms(start, start_loc)
        if not (MIN_MS <= start_ms <= self.now_ms + MAX_FUTURE_MS):
            raise SampleError(start_loc, "Time is before 2000 or in the future.", "value_error.time")
        if end is None:
            if self.spec.interval:
                raise SampleError(end_loc, "Missing data for required field.", "missing")
            return start_ms, None
        end_ms = to_ms(end, end_loc)
        if not (start_ms <= end_ms <= start_ms + MAX_INTERVAL_MS):
            raise SampleError(end_loc, "End must be after start and at most 7 days later.",
                              "value_error.time")
        return start_ms, end_ms


def workout_value(raw, loc):
    """A workout's details, checked: {activity, duration (min), distance?, energy?, heart rates?}."""
    if type(raw) is not dict:
        raise SampleError(loc, "A workout needs {\"activity\", \"duration\", …}.", "type_error.dict")
    for name in ("activity", "duration"):
        if name not in raw:
            raise SampleError(loc + [name], "Missing data for required field.", "missing")
    for name, item in raw.items():
        kind = WORKOUT_FIELDS.get(name)
        if kind is None:
            raise SampleError(loc + [name], "Unknown field.", "extra_forbidden")
        if kind is str and (type(item) is not str or not 1 <= len(item) <= 64):
            raise SampleError(loc + [name], "A name of 1–64 characters is required.", "value_error")
        if kind is float and (type(item) not in NUMBER_TYPES or not 0 <= item <= 1_000_000):
            raise SampleError(loc + [name], "Not a plausible number.", "value_error.implausible")
    if raw["duration"] > 7 * 24 * 60:
        raise SampleError(loc + ["duration"], "A workout lasts at most 7 days.", "value_error.implausible")
    return raw


def _now_ms():
    return int(utcnow().replace(tzinfo=timezone.utc).timestamp() * 1000)


def _no_nulls(item, loc):
    """A field that is sent must have a value: the schema declares none of them nullable."""
    for name, value in item.items():
        if value is None:
            raise SampleError(loc + [name], "Field may not be null.", "none_forbidden")


def check_sample(sample, i, checkers):
    """One basic-form sample, every rule checked; the row or SampleError."""
    loc = ["samples", i]
    if type(sample) is not dict:
        raise SampleError(loc, "Not a valid mapping type.", "type_error.dict")
    if not sample.keys() <= SAMPLE_FIELDS:
        extra = sorted(set(sample) - SAMPLE_FIELDS)[0]
        raise SampleError(loc + [extra], "Unknown field.", "extra_forbidden")
    _no_nulls(sample, loc)
    type_name, unit = sample.get("type"), sample.get("unit")
    key = (type_name, unit) if type(type_name) is str and (unit is None or type(unit) is str) else None
    checker = checkers.get(key)
    if checker is None:
        checker = Checker(type_name, unit, loc)
        if key is not None:
            checkers[key] = checker
    if "start" not in sample:
        raise SampleError(loc + ["start"], "Missing data for required field.", "missing")
    if "value" not in sample:
        raise SampleError(loc + ["value"], "Missing data for required field.", "missing")
    start_ms, end_ms = checker.times(sample["start"], sample.get("end"), loc + ["start"], loc + ["end"])
    value, value2 = checker.value(sample["value"], loc + ["value"])
    return as_row(checker.spec.name, start_ms, end_ms, value, value2)


def as_row(type_name, start_ms, end_ms, value, value2):
    """The stored row; a workout keeps its duration as the value and its details as JSON."""
    if type_name == "workout":
        return type_name, start_ms, end_ms, float(value["duration"]), None, json.dumps(value, sort_keys=True)
    return type_name, start_ms, end_ms, value, value2


def parse_samples(samples, rows):
    """Append the rows of the basic form's `samples` list (loc ["samples", i, …]).

    The common sample (a number, a start with an offset, no end, a known type and
    unit) takes an inlined path; anything else, or anything doubtful, goes through
    `check_sample`, which applies every rule and names the bad place.
    """
    checkers, fast = {}, {}  # fast: (type, unit) → what the inlined path needs, plain types only
    append, parse = rows.append, datetime.fromisoformat
    for i, sample in enumerate(samples):
        try:
            if len(sample) != 4:
                raise LookupError
            name, convert, low, high, latest_ms = fast[sample["type"], sample["unit"]]
            value = sample["value"]
            if type(value) not in NUMBER_TYPES:
                raise LookupError
            parsed = parse(sample["start"])
            if parsed.tzinfo is None:
                raise LookupError
            start_ms = int(parsed.timestamp() * 1000)
            if convert is not None:
                value = convert(value)
            if not (low <= value <= high and MIN_MS <= start_ms <= latest_ms):
                raise LookupError
            append((name, start_ms, None, value, None))
        except (LookupError, TypeError, ValueError, AttributeError):
            append(check_sample(sample, i, checkers))
            key = (sample.get("type"), sample.get("unit"))
            checker = checkers.get(key)
            if checker is not None and checker.plain and key not in fast:
                fast[key] = (checker.name, None if checker.convert is identity else checker.convert,
                             checker.low, checker.high, checker.latest_ms)


def parse_series(series, rows):
    """Append the rows of the compact form (loc ["series", j, "value", i])."""
    for j, item in enumerate(series):
        loc = ["series", j]
        if type(item) is not dict:
            raise SampleError(loc, "Not a valid mapping type.", "type_error.dict")
        if not item.keys() <= SERIES_FIELDS:
            raise SampleError(loc + [sorted(set(item) - SERIES_FIELDS)[0]], "Unknown field.", "extra_forbidden")
        _no_nulls(item, loc)
        checker = Checker(item.get("type"), item.get("unit"), loc)
        starts, values, ends = item.get("start"), item.get("value"), item.get("end")
        for name, array in (("start", starts), ("value", values)):
            if type(array) is not list:
                raise SampleError(loc + [name], "Not a valid list.", "type_error.list")
        if len(values) != len(starts) or (ends is not None and (type(ends) is not list
                                                                 or len(ends) != len(starts))):
            raise SampleError(loc, "start, value (and end) must be lists of the same length.",
                              "value_error.length")
        if len(rows) + len(starts) > MAX_SAMPLES:
            raise TooMany()
        name = checker.spec.name
        fast = None if ends is not None else _plain_series(checker, starts, values)
        if fast is not None:
            rows += fast
            continue
        for i in range(len(starts)):
            start_ms, end_ms = checker.times(starts[i], ends[i] if ends is not None else None,
                                             loc + ["start", i], loc + ["end", i])
            value, value2 = checker.value(values[i], loc + ["value", i])
            rows.append(as_row(name, start_ms, end_ms, value, value2))


def _plain_series(checker, starts, values):
    """Rows of a plain numeric series checked with builtins in a few passes, or None.

    None means "take the per-sample path", which also finds and names a bad value.
    """
    spec = checker.spec
    if spec.interval or spec.name == "blood_pressure" or not starts:
        return None
    if set(map(type, starts)) != INT_ONLY or not set(map(type, values)) <= NUMBER_KINDS:
        return None
    if min(starts) < MIN_MS or max(starts) > checker.now_ms + MAX_FUTURE_MS:
        return None
    converted = values if checker.convert is identity else list(map(checker.convert, values))
    if float in set(map(type, converted)) and any(map(isnan, converted)):  # min and max skip NaN
        return None
    if min(converted) < spec.low or max(converted) > spec.high:
        return None
    return list(zip(repeat(spec.name), starts, repeat(None), converted, repeat(None)))


def parse_body(body):
    """(source, rows) from an ingest body; SampleError or TooMany on bad input."""
    if type(body) is not dict:
        raise SampleError([], "Not a valid mapping type.", "type_error.dict")
    unknown = set(body) - {"source", "samples", "series"}
    if unknown:
        raise SampleError([sorted(unknown)[0]], "Unknown field.", "extra_forbidden")
    source = body.get("source")
    if type(source) is not str or not (1 <= len(source) <= 64):
        raise SampleError(["source"], "A source of 1–64 characters is required.", "value_error.source")
    for name in ("samples", "series"):  # either may be left out, neither is nullable
        if name in body and body[name] is None:
            raise SampleError([name], "Field may not be null.", "type_error.none")
    samples, series = body.get("samples"), body.get("series")
    if samples is None and series is None:
        raise SampleError(["samples"], "Missing data for required field.", "missing")
    rows = []
    if samples is not None:
        if type(samples) is not list:
            raise SampleError(["samples"], "Not a valid list.", "type_error.list")
        if len(samples) > MAX_SAMPLES:
            raise TooMany()
        parse_samples(samples, rows)
    if series is not None:
        if type(series) is not list:
            raise SampleError(["series"], "Not a valid list.", "type_error.list")
        parse_series(series, rows)
    return source, rows
