"""The Apple Health importer on the suite's sample export (tests/data), as xml and as export.zip.

The sample holds what real exports write: 12-hour clocks (with a narrow no-break space
before PM, "a.m."), 24-hour clocks, entities in source names (character references,
`&amp;`, an entity declared in the DOCTYPE), workouts (statistics as children and as
attributes), blood-pressure correlations, sleep stages, unreadable dates and types this
server does not keep.
"""
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.factories import make_patient

SAMPLE = Path(__file__).parent / "data" / "apple_health_export.xml"
WATCH, PHONE = "Kim\u2019s Apple Watch", "Kim\u2019s iPhone"
INSERTED = {"heart_rate": 4, "steps": 3, "oxygen_saturation": 1, "body_weight": 1, "sleep": 5,
            "blood_pressure": 2, "workout": 2}
SKIPPED = {"invalid heart_rate (value)": 1, "unreadable date": 1, "date without a time zone": 1,
           "HKQuantityTypeIdentifierDietaryWater": 1, "HKCorrelationTypeIdentifierFood": 1, "ActivitySummary": 1}


def export_zip(path, member="apple_health_export/export.xml", xml=None):
    """An export.zip as the Health app writes it: the XML plus entries the importer ignores."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        archive.writestr("apple_health_export/workout-routes/route_2026-11-20_7.30pm.gpx", "<gpx/>")
        archive.writestr(member, xml if xml is not None else SAMPLE.read_bytes())
    return path


def stored(app):
    from avycenna.db import database
    from avycenna.wearables.models import WearableSample
    from avycenna.wearables.service import present_sample

    with app.app_context(), database.obj.connection_context():
        rows = WearableSample.select().order_by(WearableSample.type, WearableSample.start_ms, WearableSample.value)
        return [present_sample(r) for r in rows]


def of_type(samples, type_name):
    return [s for s in samples if s["type"] == type_name]


def run_import(app, patient, path):
    from avycenna.db import database
    from avycenna.wearables.apple_health import import_export

    with app.app_context(), database.obj.connection_context():
        return import_export(patient, str(path))


@pytest.fixture
def patient(app, make_user):
    return make_patient(app, make_user())


def test_the_sample_export_imports_every_form_it_holds(app, patient):
    counts, skipped = run_import(app, patient, SAMPLE)
    assert counts["inserted"] == sum(INSERTED.values()) and counts["duplicates"] == 0
    assert {k[9:]: n for k, n in counts.items() if k.startswith("inserted_")} == INSERTED
    assert dict(skipped) == SKIPPED
    samples = stored(app)
    assert [(s["start"], s["value"], s["source"]) for s in of_type(samples, "heart_rate")] == [
        ("2026-11-19T23:10:00Z", 58, WATCH),  # 12:10:00 a.m. +0100
        ("2026-11-20T08:00:00Z", 64, WATCH),  # 9:00:00 AM +0100
        ("2026-11-20T11:30:00Z", 71, WATCH),  # 12:30:00<U+202F>PM +0100
        ("2026-11-21T02:15:00Z", 66, WATCH)]  # 21:15:00 -0500
    steps = of_type(samples, "steps")
    assert [(s["start"], s["end"], s["value"], s["source"]) for s in steps] == [
        ("2026-11-21T01:00:00Z", "2026-11-21T01:05:00Z", 500, "Band & Co"),  # same start, other end:
        ("2026-11-21T01:00:00Z", "2026-11-21T01:40:00Z", 8016, "Band & Co"),  # both kept
        ("2026-11-21T01:02:43Z", "2026-11-21T01:32:43Z", 2121, PHONE)]
    assert [s["value"] for s in of_type(samples, "blood_pressure")] == [
        {"systolic": 121, "diastolic": 79}, {"systolic": 135, "diastolic": 88}]
    assert of_type(samples, "blood_pressure")[0]["source"] == 'Cuff "Pro"'
    assert [(s["value"], s["source"]) for s in of_type(samples, "sleep")] == [
        ("in_bed", PHONE), ("asleep", PHONE), ("light", WATCH), ("deep", WATCH), ("awake", WATCH)]


def test_workouts_become_samples_with_their_details(app, patient):
    run_import(app, patient, SAMPLE)
    strength, run = of_type(stored(app), "workout")
    assert run == {"type": "workout", "source": WATCH, "start": "2026-11-20T18:00:00Z",
                   "end": "2026-11-20T18:30:30Z", "unit": "min",
                   "value": {"activity": "running", "duration": 30.5, "distance": 5200.0, "energy": 312.5,
                             "heart_rate_avg": 148.0, "heart_rate_max": 171.0}}
    assert strength["value"] == {"activity": "traditional_strength_training", "duration": 45.0,
                                 "distance": 0.0, "energy": 150.0}
    assert strength["source"] == "Gym App"


@pytest.mark.parametrize("member", ["apple_health_export/export.xml", "Apple_Health_Export/Export.XML"])
def test_export_zip_is_read_from_inside_the_archive(app, patient, tmp_path, member):
    (tmp_path / "upload").mkdir()
    counts, skipped = run_import(app, patient, export_zip(tmp_path / "upload" / "export.zip", member))
    assert counts["inserted"] == sum(INSERTED.values()) and dict(skipped) == SKIPPED
    assert os.listdir(tmp_path / "upload") == ["export.zip"]  # nothing unpacked


def test_reimporting_stores_nothing_twice(app, patient, tmp_path):
    run_import(app, patient, SAMPLE)
    counts, _ = run_import(app, patient, export_zip(tmp_path / "export.zip"))
    assert counts["inserted"] == 0 and counts["duplicates"] == sum(INSERTED.values())
    assert len(stored(app)) == sum(INSERTED.values())


@pytest.mark.parametrize("kind", ["xml", "zip"])
def test_a_truncated_export_is_a_clear_error_with_counts_of_what_was_stored(app, patient, tmp_path, kind):
    from avycenna.wearables.apple_health import ExportUnreadable

    text = SAMPLE.read_bytes()
    cut = text.index(b"<Correlation")  # everything before the first correlation is whole
    if kind == "xml":
        path = tmp_path / "export.xml"
        path.write_bytes(text[:cut + 40])
    else:
        whole = export_zip(tmp_path / "whole.zip", xml=text[:cut + 40]).read_bytes()
        path = tmp_path / "export.zip"
        path.write_bytes(whole)
    with pytest.raises(ExportUnreadable) as raised:
        run_import(app, patient, path)
    before = Counter(s["type"] for s in stored(app))
    assert raised.value.counts["inserted"] == sum(before.values()) == 14
    assert "breaks off" in str(raised.value) and "14 samples" in str(raised.value)
    assert raised.value.skipped["unreadable date"] == 1


def test_a_damaged_zip_or_one_without_an_export_is_a_clear_error(app, patient, tmp_path):
    from avycenna.wearables.apple_health import ExportUnreadable

    whole = export_zip(tmp_path / "whole.zip").read_bytes()
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(whole[:len(whole) // 2])  # the central directory is gone
    with pytest.raises(ExportUnreadable, match="archive cannot be read"):
        run_import(app, patient, damaged)
    empty = tmp_path / "other.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ExportUnreadable, match="no apple_health_export/export.xml"):
        run_import(app, patient, empty)


@pytest.mark.parametrize("text, iso", [
    ("2021-12-24 8:02:43 PM -0500", "2021-12-25T01:02:43Z"),
    ("2021-12-24 08:02:43 pm -0500", "2021-12-25T01:02:43Z"),
    ("2021-12-24 12:02:43\u202fAM +0000", "2021-12-24T00:02:43Z"),
    ("2021-12-24 12:02:43 p.m. +0000", "2021-12-24T12:02:43Z"),
    ("2021-12-24 午後8:02:43 +0900", "2021-12-24T11:02:43Z"),
    ("2021-12-24 20:02:43 -0500", "2021-12-25T01:02:43Z"),
    ("2021-12-24T20:02:43.250+01:00", "2021-12-24T19:02:43.250Z"),
    ("2021-12-24 20:02 +0000", "2021-12-24T20:02:00Z"),
])
def test_dates_in_every_form_exports_use(text, iso):
    from avycenna.wearables.apple_health import apple_ms
    from avycenna.clock import ms_to_iso

    assert ms_to_iso(apple_ms(text)) == iso


@pytest.mark.parametrize("text, reason", [
    ("2021-12-24 13:02:43 PM -0500", "unreadable date"), ("2021-02-30 08:00:00 +0000", "unreadable date"),
    ("24/12/2021 20:02", "unreadable date"), ("2021-12-24 20:02:43", "date without a time zone"), (None, "unreadable date"),
])
def test_unreadable_dates_name_their_reason(text, reason):
    from avycenna.wearables.apple_health import DateError, apple_ms

    with pytest.raises(DateError, match=reason):
        apple_ms(text)


def test_cli_imports_a_zip_and_reports_a_truncated_file_without_a_traceback(app, runner, patient, tmp_path):
    result = runner.invoke(args=["import-apple-health", str(patient.id), str(export_zip(tmp_path / "export.zip"))])
    assert result.exit_code == 0, result.output
    assert f"inserted {sum(INSERTED.values())}, duplicates 0, skipped {sum(SKIPPED.values())}" in result.output
    assert "date without a time zone" in result.output
    truncated = tmp_path / "export.xml"
    truncated.write_bytes(SAMPLE.read_bytes()[:-200])
    result = runner.invoke(args=["import-apple-health", str(patient.id), str(truncated)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "breaks off" in result.output and f"duplicates {sum(INSERTED.values()) - 1}" in result.output


def test_import_into_an_unknown_patient_fails_cleanly(app, runner, tmp_path):
    result = runner.invoke(args=["import-apple-health", "6f0c3c8e-0000-4000-8000-000000000000", str(SAMPLE)])
    assert result.exit_code != 0 and "No patient" in result.output
