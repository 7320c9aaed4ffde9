"""Import an Apple Health `export.xml`: streamed, mapped, checked, ingested in batches.

The file is read with `iterparse` and every finished element is cleared, so a
multi-gigabyte export never sits in memory. Records go through the same checks
and the same `ingest()` as the API, one batch per source at a time.
"""
import os
from collections import Counter, defaultdict
from datetime import datetime
from xml.etree.ElementTree import iterparse

from avycenna.wearables.service import ingest
from avycenna.wearables.validate import SampleError, check_sample

BATCH = 5000
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
    "HKCategoryValueSleepAnalysisAsleep": "light",  # before iOS 16: stage unknown
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "light",
    "HKCategoryValueSleepAnalysisAsleepCore": "light",
    "HKCategoryValueSleepAnalysisAsleepDeep": "deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "rem",
}


def apple_ms(text):
    """`2026-11-20 08:00:00 +0100` → epoch milliseconds."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").timestamp() * 1000)


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
    start, end = apple_ms(record.get("startDate")), apple_ms(record.get("endDate"))
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


class Importer:
    """Collects checked rows per source and ingests them a batch at a time."""

    def __init__(self, patient):
        self.patient = patient
        self.pending = defaultdict(list)
        self.checkers = {}
        self.counts = Counter()  # inserted, duplicates
        self.skipped = Counter()  # reason → count

    def add(self, source, sample):
        try:
            row = check_sample(sample, 0, self.checkers)
        except SampleError as error:
            self.skipped[f"invalid {sample['type']} ({error.loc[-1]})"] += 1
            return
        rows = self.pending[source]
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush(source)

    def flush(self, source):
        rows = self.pending.pop(source, [])
        if rows:
            result = ingest(self.patient, source[:64], rows)
            self.counts["inserted"] += result["inserted"]
            self.counts["duplicates"] += result["duplicates"]

    def finish(self):
        for source in list(self.pending):
            self.flush(source)


def blood_pressure(correlation, parts):
    values = {r.get("type"): _number(r.get("value")) for r in parts}
    if SYSTOLIC not in values or DIASTOLIC not in values:
        return None
    return {"type": "blood_pressure", "start": apple_ms(correlation.get("startDate")), "unit": "mmHg",
            "value": {"systolic": values[SYSTOLIC], "diastolic": values[DIASTOLIC]}}


def import_export(patient, fh, progress=None):
    """Stream `fh` (an export.xml opened in binary) into `patient`'s samples.

    `progress(bytes_read)` is called now and then. Returns (counts, skipped).
    """
    importer = Importer(patient)
    depth, root, parts, last = 0, None, [], 0
    for event, elem in iterparse(fh, events=("start", "end")):
        if event == "start":
            depth += 1
            root = root if root is not None else elem
            continue
        depth -= 1
        if elem.tag == "Record" and depth == 2 and elem.get("type") in (SYSTOLIC, DIASTOLIC):
            parts.append(dict(elem.attrib))  # inside a blood-pressure <Correlation>
        elif elem.tag == "Record" and depth == 1:
            _record(importer, elem)
        elif elem.tag == "Correlation" and depth == 1:
            sample = blood_pressure(elem, parts) if elem.get("type") == BLOOD_PRESSURE else None
            if sample is None:
                importer.skipped[elem.get("type") or "Correlation"] += 1
            else:
                importer.add(elem.get("sourceName") or "apple_health", sample)
            parts = []
        elif depth == 1 and elem.tag not in METADATA:
            importer.skipped[elem.tag] += 1  # workouts, activity summaries …
        if depth == 1:
            root.clear()  # drop finished top-level elements: memory stays flat
            if progress is not None and fh.tell() - last > 1 << 20:
                last = fh.tell()
                progress(last)
    importer.finish()
    if progress is not None:
        progress(os.fstat(fh.fileno()).st_size)
    return importer.counts, importer.skipped


def _record(importer, elem):
    record_type = elem.get("type") or "Record"
    if record_type in (SYSTOLIC, DIASTOLIC):
        importer.skipped[record_type + " (outside a blood-pressure correlation)"] += 1
        return
    try:
        sample = to_sample(elem)
    except (TypeError, ValueError):
        importer.skipped["unreadable date"] += 1
        return
    if sample is None:
        importer.skipped[record_type] += 1
        return
    importer.add(elem.get("sourceName") or "apple_health", sample)
