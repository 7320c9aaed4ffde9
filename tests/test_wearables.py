"""Wearable ingestion (units, plausibility, dedupe, all-or-nothing, limits) and reads."""
import pytest

from tests.factories import audit_events, make_patient

DENIED = {"detail": "Grant not found or access denied."}


@pytest.fixture
def owner(make_user):
    return make_user("member", email="sam@example.test")


def url(patient, tail=""):
    return f"/api/v1/patients/{patient.id}/wearables{tail}"


def hr(minute, value=72, unit="count/min"):
    return {"type": "heart_rate", "start": f"2026-11-20T08:{minute:02d}:00Z", "value": value, "unit": unit}


def post(client, patient, headers, samples=None, source="apple_watch", **body):
    if samples is not None:
        body["samples"] = samples
    return client.post(url(patient), headers=headers, json={"source": source, **body})


def read(client, patient, headers, query="type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"):
    return client.get(url(patient, "?" + query), headers=headers)


def test_types_list_canonical_and_accepted_units(client, headers):
    types = {t["type"]: t for t in client.get("/api/v1/wearables/types").get_json()["data"]}
    assert len(types) == 14
    assert types["workout"]["unit"] == "min" and types["workout"]["interval"] is True
    assert types["body_weight"]["unit"] == "kg" and "lb" in types["body_weight"]["accepted_units"]
    assert types["blood_glucose"]["unit"] == "mg/dL" and "mmol/L" in types["blood_glucose"]["accepted_units"]
    assert types["sleep"]["stages"] == ["awake", "light", "deep", "rem", "in_bed", "asleep"]


def test_ingest_by_jwt_and_by_api_key_then_read(client, patient, headers, key_for, owner):
    r = post(client, patient, headers, [hr(0), hr(1, 75)])
    assert r.status_code == 200
    assert r.get_json() == {"inserted": 2, "duplicates": 0, "checkpoint": {"heart_rate": "2026-11-20T08:01:00Z"}}
    r = post(client, patient, key_for(owner), [
        {"type": "steps", "start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:10:00Z", "value": 840,
         "unit": "count"}])
    assert r.get_json()["inserted"] == 1
    data = read(client, patient, headers).get_json()["data"]
    assert data == [{"type": "heart_rate", "source": "apple_watch", "start": "2026-11-20T08:00:00Z", "end": None,
                     "value": 72.0, "unit": "count/min"},
                    {"type": "heart_rate", "source": "apple_watch", "start": "2026-11-20T08:01:00Z", "end": None,
                     "value": 75.0, "unit": "count/min"}]


@pytest.mark.parametrize("sample, stored", [
    ({"type": "body_weight", "value": 154, "unit": "lb"}, 69.853),
    ({"type": "body_temperature", "value": 98.6, "unit": "degF"}, 37.0),
    ({"type": "blood_glucose", "value": 5.5, "unit": "mmol/L"}, 99.086),
    ({"type": "distance", "value": 1.5, "unit": "km"}, 1500.0),
    ({"type": "distance", "value": 1, "unit": "mi"}, 1609.344),
    ({"type": "active_energy", "value": 418.4, "unit": "kJ"}, 100.0),
    ({"type": "oxygen_saturation", "value": 0.97, "unit": "fraction"}, 97.0),
])
def test_units_convert_to_the_canonical_unit(client, patient, headers, sample, stored):
    sample = {**sample, "start": "2026-11-20T08:00:00Z"}
    assert post(client, patient, headers, [sample]).status_code == 200
    data = read(client, patient, headers, f"type={sample['type']}&start=2026-11-20T00:00:00Z"
                                           "&end=2026-11-21T00:00:00Z").get_json()["data"]
    assert data[0]["value"] == pytest.approx(stored, abs=0.001)
    assert data[0]["value"] == round(data[0]["value"], 4)  # no float noise from the conversion


def test_blood_pressure_and_sleep_values(client, patient, headers):
    r = post(client, patient, headers, [
        {"type": "blood_pressure", "start": "2026-11-20T08:00:00Z", "value": {"systolic": 120, "diastolic": 80},
         "unit": "mmHg"},
        {"type": "sleep", "start": "2026-11-20T01:00:00Z", "end": "2026-11-20T02:30:00Z", "value": "deep"}])
    assert r.status_code == 200 and r.get_json()["inserted"] == 2
    bp = read(client, patient, headers, "type=blood_pressure&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z")
    assert bp.get_json()["data"][0]["value"] == {"systolic": 120.0, "diastolic": 80.0}
    sleep = read(client, patient, headers, "type=sleep&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z")
    assert sleep.get_json()["data"][0]["value"] == "deep"
    assert sleep.get_json()["data"][0]["end"] == "2026-11-20T02:30:00Z"


@pytest.mark.parametrize("bad, loc, type_", [
    ({"type": "steps", "start": "2026-11-20T08:00:00Z", "value": -5, "unit": "count"}, ["value"],
     "value_error.implausible"),
    (hr(5, 900), ["value"], "value_error.implausible"),
    (hr(5, "fast"), ["value"], "type_error.number"),
    (hr(5, 70, "furlongs"), ["unit"], "value_error.unit"),
    ({"type": "mood", "start": "2026-11-20T08:00:00Z", "value": 1, "unit": "x"}, ["type"], "value_error.type"),
    ({"type": "heart_rate", "start": "yesterday", "value": 60, "unit": "bpm"}, ["start"], "value_error.datetime"),
    ({"type": "heart_rate", "start": "2026-11-20T08:00:00", "value": 60, "unit": "bpm"}, ["start"],
     "value_error.datetime"),
    ({"type": "heart_rate", "value": 60, "unit": "bpm"}, ["start"], "missing"),
    ({"type": "sleep", "start": "2026-11-20T01:00:00Z", "value": "deep"}, ["end"], "missing"),
    ({"type": "sleep", "start": "2026-11-20T01:00:00Z", "end": "2026-11-20T02:00:00Z", "value": "dreaming"},
     ["value"], "value_error.stage"),
    ({"type": "blood_pressure", "start": "2026-11-20T08:00:00Z", "value": {"systolic": 80, "diastolic": 120},
      "unit": "mmHg"}, ["value"], "value_error.implausible"),
    ({**hr(5), "colour": "red"}, ["colour"], "extra_forbidden"),
    ({**hr(5), "start": "2099-01-01T00:00:00Z"}, ["start"], "value_error.time"),
    ({**hr(5), "start": "1999-12-31T23:00:00Z"}, ["start"], "value_error.time"),
])
def test_one_bad_sample_rejects_the_batch_with_its_loc(client, patient, headers, app, bad, loc, type_):
    r = post(client, patient, headers, [hr(0), hr(1), bad])
    assert r.status_code == 422
    [item] = r.get_json()["detail"]
    assert item["loc"] == ["body", "samples", 2, *loc] and item["type"] == type_
    assert read(client, patient, headers).get_json()["data"] == []
    assert audit_events(app, action="wearables.ingest") == []


def test_milliseconds_survive_the_round_trip(client, patient, headers):
    post(client, patient, headers, [{**hr(0), "start": "2026-11-20T08:00:00.123+01:00"}])
    assert read(client, patient, headers).get_json()["data"][0]["start"] == "2026-11-20T07:00:00.123Z"


def test_resending_stores_nothing_twice(client, patient, headers):
    batch = [hr(m) for m in range(5)]
    assert post(client, patient, headers, batch).get_json()["inserted"] == 5
    r = post(client, patient, headers, batch[2:] + [hr(5), hr(5)])
    assert r.get_json() == {"inserted": 1, "duplicates": 4, "checkpoint": {"heart_rate": "2026-11-20T08:05:00Z"}}
    other_source = post(client, patient, headers, batch, source="polar_strap").get_json()
    assert other_source["inserted"] == 5 and other_source["checkpoint"] == {"heart_rate": "2026-11-20T08:04:00Z"}
    assert len(read(client, patient, headers).get_json()["data"]) == 11


def test_compact_series_form(client, patient, headers):
    start = 1795161600000  # 2026-11-20T08:00:00Z
    r = post(client, patient, headers, series=[
        {"type": "heart_rate", "unit": "bpm", "start": [start + i * 1000 for i in range(60)],
         "value": [60 + i % 10 for i in range(60)]}])
    assert r.status_code == 200 and r.get_json()["inserted"] == 60
    r = post(client, patient, headers, series=[
        {"type": "heart_rate", "unit": "bpm", "start": [start, start + 1000], "value": [60, 400]}])
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "series", 0, "value", 1]


def test_more_than_10000_samples_or_10_mb_is_413(client, patient, headers, app):
    too_many = [hr(0)] * 10_001
    r = post(client, patient, headers, too_many)
    assert r.status_code == 413
    body = b'{"source": "x", "samples": [' + b" " * (10 * 1024 * 1024) + b"]}"
    r = client.post(url(patient), headers=headers, data=body, content_type="application/json")
    assert r.status_code == 413 and r.get_json() == {"detail": "Request body too large."}


def test_bodies_between_1_and_10_mb_are_accepted_here_only(client, patient, headers):
    body = b'{"source": "x", "samples": [' + b" " * (2 * 1024 * 1024) + b"]}"
    assert client.post(url(patient), headers=headers, data=body, content_type="application/json").status_code == 200
    r = client.post("/api/v1/api-keys", headers=headers, data=body, content_type="application/json")
    assert r.status_code == 413


def test_only_the_owner_ingests(client, patient, make_user, token_for):
    for user in (make_user("member"), make_user("clinician")):
        r = post(client, patient, token_for(user), [hr(0)])
        assert r.status_code == 404 and r.get_json() == DENIED


def test_reads_page_with_a_cursor_and_answer_any_window(client, patient, headers):
    post(client, patient, headers, [hr(m) for m in range(5)])
    first = read(client, patient, headers, "type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z&limit=3")
    cursor = first.get_json()["next_cursor"]
    second = read(client, patient, headers, f"type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"
                                            f"&limit=3&cursor={cursor}").get_json()
    assert [s["start"][11:16] for s in first.get_json()["data"] + second["data"]] == [
        "08:00", "08:01", "08:02", "08:03", "08:04"]
    assert second["next_cursor"] is None
    # A backwards window holds nothing; a long one is read (keyset pages); a limit the document
    # does not allow is a 422.
    backwards = read(client, patient, headers, "type=heart_rate&start=2026-11-21T00:00:00Z&end=2026-11-20T00:00:00Z")
    assert backwards.status_code == 200 and backwards.get_json() == {"data": [], "next_cursor": None}
    long = read(client, patient, headers, "type=heart_rate&start=2024-01-01T00:00:00Z&end=2026-11-21T00:00:00Z")
    assert long.status_code == 200 and len(long.get_json()["data"]) == 5
    assert read(client, patient, headers, "type=heart_rate&limit=1001").status_code == 422


def test_summary_per_hour_and_day(client, patient, headers):
    samples = [hr(0, 60), hr(30, 80), {**hr(0, 100), "start": "2026-11-20T09:15:00Z"},
               {**hr(0, 50), "start": "2026-11-21T03:00:00Z"}]
    post(client, patient, headers, samples)
    post(client, patient, headers, samples)  # duplicates do not count twice
    q = "type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-22T00:00:00Z"
    hourly = client.get(url(patient, "/summary?bucket=hour&" + q), headers=headers).get_json()
    assert hourly["unit"] == "count/min" and hourly["bucket"] == "hour"
    assert [(b["start"], b["count"], b["min"], b["max"], b["mean"]) for b in hourly["data"]] == [
        ("2026-11-20T08:00:00Z", 2, 60, 80, 70), ("2026-11-20T09:00:00Z", 1, 100, 100, 100),
        ("2026-11-21T03:00:00Z", 1, 50, 50, 50)]
    daily = client.get(url(patient, "/summary?bucket=day&" + q), headers=headers).get_json()["data"]
    assert [(b["start"], b["count"], b["min"], b["max"], b["mean"]) for b in daily] == [
        ("2026-11-20T00:00:00Z", 3, 60, 100, 80), ("2026-11-21T00:00:00Z", 1, 50, 50, 50)]


def test_summary_reads_the_rollup_not_the_raw_samples(client, patient, headers, app):
    from avycenna.db import database
    from avycenna.wearables.models import WearableSample

    post(client, patient, headers, [hr(m, 60 + m) for m in range(10)])
    with app.app_context(), database.obj.connection_context():
        WearableSample.delete().execute()  # the rollup alone must answer
    q = "/summary?type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"
    [bucket] = client.get(url(patient, q), headers=headers).get_json()["data"]
    assert (bucket["count"], bucket["min"], bucket["max"], bucket["mean"]) == (10, 60, 69, 64.5)


def test_blood_pressure_summary_has_diastolic(client, patient, headers):
    post(client, patient, headers, [
        {"type": "blood_pressure", "start": f"2026-11-20T08:0{i}:00Z", "value": {"systolic": s, "diastolic": d},
         "unit": "mmHg"} for i, (s, d) in enumerate([(120, 80), (130, 90)])])
    q = "/summary?type=blood_pressure&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"
    [bucket] = client.get(url(patient, q), headers=headers).get_json()["data"]
    assert bucket["mean"] == 125 and bucket["diastolic"] == {"min": 80, "max": 90, "mean": 85}


def test_clinician_with_wearables_grant_reads_and_it_is_audited(client, patient, headers, make_user, token_for,
                                                                 app, owner):
    from avycenna.db import database
    from avycenna.grants.models import Grant

    post(client, patient, headers, [hr(0)])
    dr = make_user("clinician")
    with app.app_context(), database.obj.connection_context():
        grant = Grant.create(clinician=dr, email=owner.email, scopes="wearables", status="active", patient=patient)
    assert read(client, patient, token_for(dr)).status_code == 200
    q = "/summary?type=heart_rate&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"
    assert client.get(url(patient, q), headers=token_for(dr)).status_code == 200
    events = audit_events(app, actor_user_id=dr.id)
    assert [e.action for e in events] == ["wearables.read", "wearables.summary.read"]
    assert all(e.patient_id == str(patient.id) and grant.id in e.details for e in events)
    [ingest] = audit_events(app, action="wearables.ingest")
    assert ingest.actor_user_id == owner.id and '"inserted": 1' in ingest.details
    # The source by its id: a device's name ("Alice's iPhone") is the holder's words, not the log's.
    assert ingest.target_type == "wearable_source" and ingest.target_id.startswith("wsrc_")
    assert "watch" not in ingest.details.lower()


def test_archived_or_unknown_patients_are_404(client, app, owner, headers):
    archived = make_patient(app, owner, archived=True)
    assert post(client, archived, headers, [hr(0)]).get_json() == DENIED
    r = client.get("/api/v1/patients/not-a-uuid/wearables?type=steps", headers=headers)
    assert r.status_code == 404 and r.get_json() == DENIED


def test_a_failure_mid_batch_leaves_nothing_behind(client, patient, headers, app, monkeypatch):
    """Samples, rollup and audit event share one transaction: a failure after the insert undoes it."""
    from avycenna.wearables import service

    def broken(*args):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(service, "add_to_rollup", broken)
    assert post(client, patient, headers, [hr(m) for m in range(10)]).status_code == 500
    monkeypatch.undo()
    assert read(client, patient, headers).get_json()["data"] == []
    assert audit_events(app, action="wearables.ingest") == []
    assert post(client, patient, headers, [hr(m) for m in range(10)]).get_json()["inserted"] == 10
