"""`flask --app app import-apple-health PATIENT_ID FILE` on a small generated export.xml."""
from tests.factories import make_patient

EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [<!ELEMENT HealthData ANY>]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-21 10:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-05-17"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Kim's Watch" unit="count/min" value="64"
   startDate="2026-11-20 09:00:00 +0100" endDate="2026-11-20 09:00:00 +0100">
  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>
 </Record>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Kim's Watch" unit="count/min" value="900"
   startDate="2026-11-20 09:01:00 +0100" endDate="2026-11-20 09:01:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Kim's iPhone" unit="count" value="840"
   startDate="2026-11-20 09:00:00 +0100" endDate="2026-11-20 09:10:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierOxygenSaturation" sourceName="Kim's Watch" unit="%" value="0.97"
   startDate="2026-11-20 09:05:00 +0100" endDate="2026-11-20 09:05:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="lb" value="154"
   startDate="2026-11-20 07:00:00 +0100" endDate="2026-11-20 07:00:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierDietaryWater" sourceName="App" unit="mL" value="250"
   startDate="2026-11-20 07:00:00 +0100" endDate="2026-11-20 07:00:00 +0100"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Kim's Watch"
   value="HKCategoryValueSleepAnalysisAsleepDeep"
   startDate="2026-11-20 02:00:00 +0100" endDate="2026-11-20 03:00:00 +0100"/>
 <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Cuff"
   startDate="2026-11-20 08:00:00 +0100" endDate="2026-11-20 08:00:00 +0100">
  <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Cuff" unit="mmHg" value="121"
    startDate="2026-11-20 08:00:00 +0100" endDate="2026-11-20 08:00:00 +0100"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureDiastolic" sourceName="Cuff" unit="mmHg" value="79"
    startDate="2026-11-20 08:00:00 +0100" endDate="2026-11-20 08:00:00 +0100"/>
 </Correlation>
 <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30"/>
</HealthData>
"""


def stored(app):
    from avycenna.db import database
    from avycenna.wearables.models import WearableSample
    from avycenna.wearables.service import present_sample

    with app.app_context(), database.obj.connection_context():
        return {r.type: present_sample(r) for r in WearableSample.select()}


def test_import_maps_known_records_and_reports_the_rest(app, runner, make_user, tmp_path):
    patient = make_patient(app, make_user())
    export = tmp_path / "export.xml"
    export.write_text(EXPORT)
    result = runner.invoke(args=["import-apple-health", str(patient.id), str(export)])
    assert result.exit_code == 0, result.output
    assert "inserted 6, duplicates 0, skipped 3" in result.output
    assert "HKQuantityTypeIdentifierDietaryWater" in result.output and "Workout" in result.output
    assert "invalid heart_rate (value)" in result.output
    samples = stored(app)
    assert samples["heart_rate"]["start"] == "2026-11-20T08:00:00Z" and samples["heart_rate"]["value"] == 64
    assert samples["heart_rate"]["source"] == "Kim's Watch"
    assert samples["steps"]["end"] == "2026-11-20T08:10:00Z"
    assert samples["oxygen_saturation"]["value"] == 97
    assert round(samples["body_weight"]["value"], 2) == 69.85
    assert samples["sleep"]["value"] == "deep"
    assert samples["blood_pressure"]["value"] == {"systolic": 121, "diastolic": 79}

    again = runner.invoke(args=["import-apple-health", str(patient.id), str(export)])
    assert "inserted 0, duplicates 6" in again.output


def test_import_into_an_unknown_patient_fails_cleanly(app, runner, tmp_path):
    export = tmp_path / "export.xml"
    export.write_text(EXPORT)
    result = runner.invoke(args=["import-apple-health", "6f0c3c8e-0000-4000-8000-000000000000", str(export)])
    assert result.exit_code != 0 and "No patient" in result.output


def test_the_importer_streams_and_clears_elements(monkeypatch, app, make_user, tmp_path):
    """Every finished top-level element is dropped from the tree as the parse goes: the tree
    never holds more than the parser's read-ahead, however long the file."""
    import xml.etree.ElementTree as ET

    from avycenna.db import database
    from avycenna.wearables import apple_health

    patient = make_patient(app, make_user())
    export = tmp_path / "export.xml"
    export.write_text(EXPORT.replace("</HealthData>", "".join(
        f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" value="70" '
        f'startDate="2026-11-19 {m // 3600:02d}:{m // 60 % 60:02d}:{m % 60:02d} +0000" '
        f'endDate="2026-11-19 {m // 3600:02d}:{m // 60 % 60:02d}:{m % 60:02d} +0000"/>'
        for m in range(6000)) + "</HealthData>"))
    widest = []
    real_iterparse = ET.iterparse

    def watching(*args, **kwargs):
        root = None
        for event, elem in real_iterparse(*args, **kwargs):
            root = root if root is not None else elem
            widest.append(len(root))
            yield event, elem
    monkeypatch.setattr(apple_health, "iterparse", watching)
    with app.app_context(), database.obj.connection_context(), open(export, "rb") as fh:
        counts, _ = apple_health.import_export(patient, fh)
    assert counts["inserted"] == 6006 and max(widest) < 1000
