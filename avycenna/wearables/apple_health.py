"""Import an Apple Health export (`export.zip` or `export.xml`): streamed, mapped, checked, ingested.

The XML is read by `bounded_xml`: streamed, each record dropped once handled, text never
kept, and refused (`ExportRefused`) as soon as it nests too deep, holds one over-long token or
too many distinct names, so neither a multi-gigabyte export nor a small hostile one grows
memory. An `export.zip` is read as a stream from inside the archive
(`apple_health_export/export.xml`, any letter case), never unpacked. Records go through the
same checks and the same `ingest()` as the API, one batch per source at a time. What cannot
be read is counted per reason, the `MAX_KINDS` most frequent kept (names cut to
`KIND_LENGTH`) and the rest summed under `OTHER_KINDS`; a file that breaks off (truncated,
corrupt) raises `ExportUnreadable`, after storing and counting everything read before the break.
"""
import os
import re
import time
import zipfile
import zlib
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date
from functools import lru_cache

from avycenna.wearables.bounded_xml import CHUNK, BoundedParser, ExpatError, Refused, error_text
from avycenna.wearables.service import ingest
from avycenna.wearables.types import TYPES as SAMPLE_TYPES
from avycenna.wearables.validate import MAX_INTERVAL_MS, MIN_MS, SampleError, check_sample

BATCH = 5000
PROGRESS_EVERY = 1 << 20  # bytes of the file between progress calls …
PROGRESS_SECONDS = 2.0  # … or this long, whichever comes first (the worker's heartbeat)
MAX_KINDS = 50  # skipped kinds reported by name; the rest are summed under OTHER_KINDS
MAX_KINDS_COUNTED = 1000  # kinds counted by name while reading (memory stays bounded)
KIND_LENGTH = 100  # characters of a skipped kind's name
OTHER_KINDS = "(other kinds)"
EXPORT_MEMBER = "apple_health_export/export.xml"
QUANTITY = "HKQuantityTypeIdentifier"
TYPES = {
    QUANTITY + "HeartRate": "heart_rate",
    QUANTITY + "RestingHeartRate": "resting_heart_rate",
    QUANTITY + "HeartRateVariabilitySDNN": "heart_rate_variability",
    QUANTITY + "StepCount": "steps",
    QUANTITY + "DistanceWalkingRunning": "distance",
    QUANTITY + "ActiveEnergyBurned": "active_energy",
    QUANTITY + "OxygenSaturation": "oxygen_saturation",
    QUANTITY + "RespiratoryRate": "respiratory_rate",
    QUANTITY + "BodyTemperature": "body_temperature",
    QUANTITY + "BodyMass": "body_weight",
    QUANTITY + "BloodGlucose": "blood_glucose",
    "HKCategoryTypeIdentifierSleepAnalysis": "sleep",
}
BLOOD_PRESSURE = "HKCorrelationTypeIdentifierBloodPressure"
SYSTOLIC, DIASTOLIC = QUANTITY + "BloodPressureSystolic", QUANTITY + "BloodPressureDiastolic"
METADATA = ("ExportDate", "Me")
SLEEP_VALUES = {
    "HKCategoryValueSleepAnalysisInBed": "in_bed",
    "HKCategoryValueSleepAnalysisAwake": "awake",
    "HKCategoryValueSleepAnalysisAsleep": "asleep",  # before iOS 16: stage unknown
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleep",
    "HKCategoryValueSleepAnalysisAsleepCore": "light",
    "HKCategoryValueSleepAnalysisAsleepDeep": "deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "rem",
}
WORKOUT_ACTIVITY = "HKWorkoutActivityType"
DURATION_MINUTES = {"min": 1.0, "s": 1 / 60, "sec": 1 / 60, "hr": 60.0, "h": 60.0}


class ExportUnreadable(Exception):
    """The file breaks off or is not an export; `counts` and `skipped` say what was stored before."""

    def __init__(self, message, counts=None, skipped=None):
        super().__init__(message)
        self.counts, self.skipped = counts or Counter(), skipped or Counter()


class ExportRefused(ExportUnreadable):
    """The file crossed one of the parser's bounds (too deep, an over-long token, too many names)."""


class DateError(ValueError):
    pass


# 2021-12-24 20:02:43 -0500, 2021-12-24 8:02:43 PM -0500 (also "p.m.", a narrow no-break
# space before PM as iOS 17 writes it, 午後/下午/오후 before or after the time), ISO 8601 with T.
_AM, _PM = r"[AaＡ]\.?\s?[MmＭ]\.?|午前|上午|오전", r"[PpＰ]\.?\s?[MmＭ]\.?|午後|下午|오후"
DATE = re.compile(
    rf"\s*(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})[ T]\s*(?:(?P<am1>{_AM})|(?P<pm1>{_PM}))?\s*"
    rf"(\d{{1,2}}):(\d{{2}})(?::(\d{{2}})(?:[.,](\d{{1,6}}))?)?\s*"
    rf"(?:(?P<am2>{_AM})|(?P<pm2>{_PM}))?\s*(?P<tz>Z|[+-]\d{{2}}:?\d{{2}})?\s*$")


@lru_cache(maxsize=4096)
def _day_number(year, month, day):
    return (date(year, month, day) - date(1970, 1, 1)).days  # ValueError on 2021-02-30


@lru_cache(maxsize=256)
def _offset_ms(tz):
    if tz == "Z":
        return 0
    if tz[0] not in "+-" or not tz[1:].replace(":", "").isdigit():
        raise ValueError(tz)
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60000


def apple_ms(text):
    """A date as any export writes it → epoch milliseconds; DateError naming why not."""
    if text and len(text) == 25 and text[4] == text[7] == "-" and text[13] == text[16] == ":" and text[19] == " ":
        try:  # the usual `2026-11-20 08:00:00 +0100`, without the general pattern
            hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
            if hour < 24 and minute < 60 and second < 60 and text[10] == " ":
                days = _day_number(int(text[:4]), int(text[5:7]), int(text[8:10]))
                return (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 - _offset_ms(text[20:])
        except ValueError:
            pass  # the general pattern decides, and names the reason
    match = DATE.match(text or "")
    if match is None:
        raise DateError("unreadable date")
    if match["tz"] is None:
        raise DateError("date without a time zone")
    year, month, day, hour, minute = (int(match[i]) for i in (1, 2, 3, 6, 7))
    second, fraction = int(match[8] or 0), match[9]
    if match["pm1"] or match["pm2"] or match["am1"] or match["am2"]:
        if not 1 <= hour <= 12:
            raise DateError("unreadable date")
        hour = hour % 12 + (12 if (match["pm1"] or match["pm2"]) else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise DateError("unreadable date")
    try:
        days = _day_number(year, month, day)
    except ValueError:
        raise DateError("unreadable date") from None
    ms = (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000
    if fraction:
        ms += int(fraction[:3].ljust(3, "0"))
    return ms - _offset_ms(match["tz"])


def apple_unit(type_name, unit):
    if type_name == "oxygen_saturation" and unit == "%":
        return "fraction"  # Apple writes 0.97 with unit "%"
    if unit and unit.startswith("mmol"):
        return "mmol/L"  # "mmol<180.1558800000541>/L"
    return unit


def to_sample(record):
    """A basic-form sample from a <Record>, or None for a type this server does not keep."""
    type_name = TYPES.get(record.get("type"))
    if type_name is None:
        return None
    start_text, end_text = record.get("startDate"), record.get("endDate")
    start = apple_ms(start_text)
    end = start if end_text == start_text else apple_ms(end_text)
    sample = {"type": type_name, "start": start}
    if type_name == "sleep":
        return {**sample, "end": end, "value": SLEEP_VALUES.get(record.get("value"), record.get("value"))}
    if end != start:
        sample["end"] = end
    return {**sample, "value": _number(record.get("value")), "unit": apple_unit(type_name, record.get("unit"))}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text  # left for the checks to reject


def _converted(type_name, amount, unit):
    """`amount` in `unit` → the canonical unit of `type_name`, or None when unknown."""
    value = _number(amount)
    if type(value) is not float:
        return None
    convert = SAMPLE_TYPES[type_name].converter(unit)
    return round(convert(value), 4) if convert else None


def activity_name(raw):
    """`HKWorkoutActivityTypeTraditionalStrengthTraining` → `traditional_strength_training`."""
    name = (raw or "other").removeprefix(WORKOUT_ACTIVITY)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()[:64] or "other"


def workout_sample(elem):
    """A workout sample from a <Workout> and its <WorkoutStatistics> children (iOS 16+) or attributes."""
    start, end = apple_ms(elem.get("startDate")), apple_ms(elem.get("endDate"))
    duration = _number(elem.get("duration"))
    if type(duration) is float:
        duration = round(duration * DURATION_MINUTES.get(elem.get("durationUnit") or "min", 1.0), 4)
    else:
        duration = round((end - start) / 60000, 4)
    value = {"activity": activity_name(elem.get("workoutActivityType")), "duration": duration}
    distance = _converted("distance", elem.get("totalDistance"), elem.get("totalDistanceUnit"))
    energy = _converted("active_energy", elem.get("totalEnergyBurned"), elem.get("totalEnergyBurnedUnit"))
    for stat in elem.iter("WorkoutStatistics"):
        kind = TYPES.get(stat.get("type"))
        if kind == "heart_rate":
            for field, attr in (("heart_rate_avg", "average"), ("heart_rate_max", "maximum")):
                rate = _converted("heart_rate", stat.get(attr), stat.get("unit"))
                if rate is not None:
                    value[field] = rate
        elif kind == "distance" and distance is None:
            distance = _converted("distance", stat.get("sum"), stat.get("unit"))
        elif kind == "active_energy" and energy is None:
            energy = _converted("active_energy", stat.get("sum"), stat.get("unit"))
    for field, amount in (("distance", distance), ("energy", energy)):
        if amount is not None:
            value[field] = amount
    return {"type": "workout", "start": start, "end": end, "value": value, "unit": "min"}


def blood_pressure(correlation):
    values = {r.get("type"): _number(r.get("value")) for r in correlation.iter("Record")}
    if SYSTOLIC not in values or DIASTOLIC not in values:
        return None
    return {"type": "blood_pressure", "start": apple_ms(correlation.get("startDate")), "unit": "mmHg",
            "value": {"systolic": values[SYSTOLIC], "diastolic": values[DIASTOLIC]}}


class Importer:
    """Collects checked rows per source and ingests them a batch at a time."""

    def __init__(self, patient, user_id=None):
        self.patient, self.user_id = patient, user_id
        self.pending = defaultdict(list)
        self.checkers = {}
        self.counts = Counter()  # inserted, duplicates
        self.by_type = Counter()  # type → inserted
        self.skipped = Counter()  # reason → count, at most MAX_KINDS_COUNTED reasons
        self.other = 0  # skipped records of reasons beyond those

    def skip(self, reason):
        reason = reason if len(reason) <= KIND_LENGTH else reason[:KIND_LENGTH - 1] + "…"
        if reason in self.skipped or len(self.skipped) < MAX_KINDS_COUNTED:
            self.skipped[reason] += 1
        else:
            self.other += 1

    def skipped_summary(self):
        """The MAX_KINDS most frequent reasons, the rest summed under OTHER_KINDS."""
        top = Counter(dict(self.skipped.most_common(MAX_KINDS)))
        rest = self.other + sum(self.skipped.values()) - sum(top.values())
        if rest:
            top[OTHER_KINDS] += rest
        return top

    def add(self, source, sample):
        row = self.plain_row(sample)
        if row is None:
            try:
                row = check_sample(sample, 0, self.checkers)
            except SampleError as error:
                self.skip(f"invalid {sample['type']} ({error.loc[-1]})")
                return
        rows = self.pending[source]
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush(source)

    def plain_row(self, sample):
        """The row of a plain number whose every check passes, by the checker `check_sample`
        keeps for its type and unit; None sends the sample through `check_sample` itself."""
        checker = self.checkers.get((sample["type"], sample.get("unit")))
        value = sample.get("value")
        if checker is None or not checker.plain or type(value) is not float:
            return None
        value, start, end = checker.convert(value), sample["start"], sample.get("end")
        if not (checker.low <= value <= checker.high and MIN_MS <= start <= checker.latest_ms):
            return None
        if end is not None and not start <= end <= start + MAX_INTERVAL_MS:
            return None
        return checker.name, start, end, value, None

    def flush(self, source):
        rows = self.pending.pop(source, [])
        if rows:
            result = ingest(self.patient, source[:64], rows, user_id=self.user_id)
            self.counts["inserted"] += result["inserted"]
            self.counts["duplicates"] += result["duplicates"]
            self.by_type.update(result["inserted_by_type"])

    def finish(self):
        for source in list(self.pending):
            self.flush(source)

    def element(self, elem):
        """One finished top-level element of the export."""
        tag, kind = elem.tag, elem.get("type")
        try:
            if tag == "Record":
                sample = None if kind in (SYSTOLIC, DIASTOLIC) else to_sample(elem)
                reason = (kind or "Record") + (" (outside a blood-pressure correlation)"
                                               if kind in (SYSTOLIC, DIASTOLIC) else "")
            elif tag == "Workout":
                sample, reason = workout_sample(elem), None
            elif tag == "Correlation":
                sample = blood_pressure(elem) if kind == BLOOD_PRESSURE else None
                reason = kind or "Correlation"
            elif tag in METADATA:
                return
            else:
                sample, reason = None, tag  # activity summaries, clinical records …
        except DateError as error:
            self.skip(str(error))
            return
        if sample is None:
            self.skip(reason)
        else:
            self.add(elem.get("sourceName") or "apple_health", sample)


def _export_member(archive):
    """The export.xml inside an export.zip (any letter case), or ExportUnreadable."""
    names = [info for info in archive.infolist() if not info.is_dir()]
    for info in names:
        if info.filename.lower() == EXPORT_MEMBER:
            return info
    for info in names:  # a zip of the folder's content, or a renamed folder
        if info.filename.lower().rsplit("/", 1)[-1] == "export.xml":
            return info
    raise ExportUnreadable("The archive holds no apple_health_export/export.xml.")


@contextmanager
def open_export(path):
    """(stream of export.xml, raw file) for an export.zip or export.xml; the raw file's
    position is how far the import has read."""
    with open(path, "rb") as raw:
        if raw.read(4) != b"PK\x03\x04":
            raw.seek(0)
            yield raw, raw
            return
        raw.seek(0)
        try:
            archive = zipfile.ZipFile(raw)
            member = archive.open(_export_member(archive))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise ExportUnreadable(f"The archive cannot be read ({error}).") from None
        with archive, member:
            yield member, raw


BROKEN = (ExpatError, zipfile.BadZipFile, zlib.error, EOFError)
KEEP = {"Workout": "WorkoutStatistics", "Correlation": "Record"}  # the children the importer reads


def import_export(patient, path, progress=None, user_id=None, progress_seconds=PROGRESS_SECONDS):
    """Stream the export at `path` (zip or xml) into `patient`'s samples.

    `progress(bytes_read, counts)` is called about every megabyte of the file read, and at
    least every `progress_seconds` while reading. Returns (counts, skipped) where counts has
    inserted, duplicates and `inserted_<type>`; raises ExportUnreadable (ExportRefused for a
    file that crossed a bound), after storing what was read before.
    """
    importer = Importer(patient, user_id)
    with open_export(path) as (stream, raw):
        try:
            _parse(importer, stream, raw, progress, progress_seconds)
        except (Refused, *BROKEN) as error:
            importer.finish()
            stored = importer.counts["inserted"]
            if isinstance(error, Refused):
                raise ExportRefused(f"The import was refused: {error} {stored} samples read before that point "
                                    f"were stored.", _counts(importer), importer.skipped_summary()) from None
            raise ExportUnreadable(f"The export breaks off or is damaged ({_reason(error)}); {stored} samples "
                                   f"read before that point were stored.",
                                   _counts(importer), importer.skipped_summary()) from None
    importer.finish()
    if progress is not None:
        progress(os.path.getsize(path), _counts(importer))
    return _counts(importer), importer.skipped_summary()


def _parse(importer, stream, raw, progress, progress_seconds):
    """Feed the export to the bounded parser a chunk at a time; progress moves with the bytes
    read from the file, not with elements ending."""
    parser = BoundedParser(importer.element, KEEP)
    last, last_at = 0, time.monotonic()
    while data := stream.read(CHUNK):
        parser.feed(data)
        if progress is not None:
            position = raw.tell()
            if position - last >= PROGRESS_EVERY or time.monotonic() - last_at >= progress_seconds:
                last, last_at = position, time.monotonic()
                progress(position, _counts(importer))
    parser.close()


def _reason(error):
    if isinstance(error, ExpatError):
        return f"XML error at line {error.lineno}: {error_text(error)}"
    return type(error).__name__ if not str(error) else str(error)


def _counts(importer):
    counts = Counter(importer.counts)
    counts.update({f"inserted_{t}": n for t, n in importer.by_type.items()})
    return counts
