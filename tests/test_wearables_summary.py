"""Summaries of amounts never double count: one source per hour by the holder's priority
(watch first by default), no bucket holds more than its length, awake and in-bed time is
not sleep, and the raw samples stay as they were sent."""
import pytest

from tests.factories import audit_events

WATCH, PHONE = "Kim's Apple Watch", "Kim's iPhone"
DAY = "start=2026-11-19T00:00:00Z&end=2026-11-21T00:00:00Z"


def base(patient):
    return f"/api/v1/patients/{patient.id}/wearables"


def post(client, patient, headers, source, samples):
    r = client.post(base(patient), headers=headers, json={"source": source, "samples": samples})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def amount(type_name, start, end, value):
    unit = {"steps": "count", "distance": "m", "active_energy": "kcal"}[type_name]
    return {"type": type_name, "start": f"2026-11-20T{start}:00Z", "end": f"2026-11-20T{end}:00Z",
            "value": value, "unit": unit}


def summary(client, patient, headers, type_name, bucket):
    r = client.get(base(patient) + f"/summary?type={type_name}&bucket={bucket}&{DAY}", headers=headers)
    assert r.status_code == 200
    return [(b["start"][5:16], round(b["sum"], 2)) for b in r.get_json()["data"]]


@pytest.mark.parametrize("type_name", ["steps", "distance", "active_energy"])
def test_two_overlapping_sources_count_once_per_hour(client, patient, headers, type_name):
    # The phone and the watch both counted 08:00–09:00; only the phone was carried 10:00–10:30.
    post(client, patient, headers, PHONE, [amount(type_name, "08:00", "08:30", 2121),
                                           amount(type_name, "08:30", "09:00", 1000),
                                           amount(type_name, "10:00", "10:30", 300)])
    post(client, patient, headers, WATCH, [amount(type_name, "08:00", "09:00", 8016)])
    assert summary(client, patient, headers, type_name, "hour") == [("11-20T08:00", 8016), ("11-20T10:00", 300)]
    assert summary(client, patient, headers, type_name, "day") == [("11-20T00:00", 8316)]  # not 11,437

    r = client.put(base(patient) + "/sources", headers=headers, json={"priority": [PHONE]})
    assert r.status_code == 200 and [s["source"] for s in r.get_json()["data"]] == [PHONE, WATCH]
    assert summary(client, patient, headers, type_name, "day") == [("11-20T00:00", 3421)]
    samples = client.get(base(patient) + f"?type={type_name}&{DAY}", headers=headers).get_json()["data"]
    assert len(samples) == 4  # raw samples stay as received


def test_an_amount_over_several_hours_is_shared_out_by_time(client, patient, headers):
    post(client, patient, headers, WATCH, [amount("steps", "08:30", "10:00", 3000)])
    assert summary(client, patient, headers, "steps", "hour") == [("11-20T08:00", 1000), ("11-20T09:00", 2000)]


def sleep(start, end, stage):
    return {"type": "sleep", "start": start, "end": end, "value": stage}


NIGHT_PHONE = [sleep("2026-11-19T22:00:00Z", "2026-11-20T07:00:00Z", "in_bed"),
               sleep("2026-11-19T22:30:00Z", "2026-11-20T06:30:00Z", "asleep")]
NIGHT_WATCH = [sleep("2026-11-19T23:00:00Z", "2026-11-20T01:00:00Z", "light"),
               sleep("2026-11-20T01:00:00Z", "2026-11-20T01:30:00Z", "deep"),
               sleep("2026-11-20T01:20:00Z", "2026-11-20T02:00:00Z", "rem"),  # overlaps the deep stage
               sleep("2026-11-20T02:00:00Z", "2026-11-20T02:10:00Z", "awake")]


def test_sleep_from_two_sources_counts_asleep_time_once_and_no_hour_over_60_minutes(client, patient, headers):
    post(client, patient, headers, PHONE, NIGHT_PHONE)
    post(client, patient, headers, WATCH, NIGHT_WATCH)
    hours = summary(client, patient, headers, "sleep", "hour")
    assert hours == [("11-19T22:00", 30), ("11-19T23:00", 60), ("11-20T00:00", 60), ("11-20T01:00", 60),
                     ("11-20T02:00", 60), ("11-20T03:00", 60), ("11-20T04:00", 60), ("11-20T05:00", 60),
                     ("11-20T06:00", 30)]
    assert all(total <= 60 for _, total in hours)
    days = summary(client, patient, headers, "sleep", "day")
    assert days == [("11-19T00:00", 90), ("11-20T00:00", 390)]  # 8 h asleep, not in bed + asleep + stages


def test_awake_and_in_bed_alone_are_no_sleep_and_asleep_stays_distinct_from_light(client, patient, headers):
    post(client, patient, headers, PHONE, [NIGHT_PHONE[0], sleep("2026-11-20T03:00:00Z", "2026-11-20T03:20:00Z",
                                                                 "awake")])
    assert summary(client, patient, headers, "sleep", "day") == []
    post(client, patient, headers, PHONE, [NIGHT_PHONE[1]])
    stages = client.get(base(patient) + f"?type=sleep&{DAY}", headers=headers).get_json()["data"]
    assert [s["value"] for s in stages] == ["in_bed", "asleep", "awake"]


def test_samples_sharing_a_start_but_not_end_or_value_are_both_kept(client, patient, headers):
    first = amount("steps", "08:00", "08:40", 8016)
    shorter = amount("steps", "08:00", "08:05", 500)
    other_value = amount("steps", "08:00", "08:40", 7000)
    assert post(client, patient, headers, WATCH, [first, shorter, other_value])["inserted"] == 3
    assert post(client, patient, headers, WATCH, [first, shorter, other_value]) == {
        "inserted": 0, "duplicates": 3, "checkpoint": {"steps": "2026-11-20T08:00:00Z"}}
    point = {"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 60, "unit": "count/min"}
    assert post(client, patient, headers, WATCH, [point, point])["inserted"] == 1  # no end: still one key


def test_workout_minutes_are_summarised_per_hour(client, patient, headers):
    run = {"type": "workout", "start": "2026-11-20T08:40:00Z", "end": "2026-11-20T09:10:00Z",
           "value": {"activity": "running", "duration": 30, "distance": 5000, "heart_rate_max": 171}}
    post(client, patient, headers, WATCH, [run])
    assert summary(client, patient, headers, "workout", "hour") == [("11-20T08:00", 20), ("11-20T09:00", 10)]
    [stored] = client.get(base(patient) + f"?type=workout&{DAY}", headers=headers).get_json()["data"]
    assert stored["value"] == run["value"] and stored["unit"] == "min"
    bad = {**run, "value": {"activity": "running"}}
    r = client.post(base(patient), headers=headers, json={"source": WATCH, "samples": [bad]})
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "samples", 0, "value", "duration"]


def test_sources_list_their_priority_and_only_the_owner_sets_it(client, app, patient, headers, make_user,
                                                                 token_for, owner):
    from avycenna.db import database
    from avycenna.grants.models import Grant

    post(client, patient, headers, "Band", [amount("steps", "08:00", "09:00", 10)])
    post(client, patient, headers, PHONE, [amount("steps", "08:00", "09:00", 20)])
    post(client, patient, headers, WATCH, [amount("steps", "08:00", "09:00", 30)])
    listed = client.get(base(patient) + "/sources", headers=headers).get_json()["data"]
    assert [{k: e[k] for k in ("source", "rank")} for e in listed] == [
        {"source": WATCH, "rank": 1}, {"source": "Band", "rank": 2}, {"source": PHONE, "rank": 3}]
    assert all(e["id"].startswith("wsrc_") for e in listed) and len({e["id"] for e in listed}) == 3
    assert client.put(base(patient) + "/sources", headers=headers, json={"priority": "Band"}).status_code == 422

    dr = make_user("clinician")
    with app.app_context(), database.obj.connection_context():
        Grant.create(clinician=dr, email=owner.email, scopes="wearables", status="active", patient=patient)
    assert client.put(base(patient) + "/sources", headers=token_for(dr), json={"priority": ["Band"]}).status_code == 404
    assert client.get(base(patient) + "/summary?type=steps&" + DAY, headers=token_for(dr)).status_code == 200
    assert client.put(base(patient) + "/sources", headers=headers, json={"priority": ["Band"]}).status_code == 200
    assert [e.action for e in audit_events(app, action="wearables.sources.update")] == ["wearables.sources.update"]


def test_the_migration_rebuilds_the_rollup_as_ingest_builds_it(client, app, patient, headers):
    """Migration 0011 refolds every stored sample (new hour shares, asleep only, per source)."""
    import importlib

    from avycenna.db import database
    from avycenna.wearables.models import WearableHourly

    post(client, patient, headers, PHONE, NIGHT_PHONE + [amount("steps", "08:30", "10:00", 3000)])
    post(client, patient, headers, WATCH, NIGHT_WATCH + [{"type": "heart_rate", "start": "2026-11-20T08:00:00Z",
                                                          "value": 60, "unit": "count/min"}])
    migration = importlib.import_module("avycenna.migrations.0011_wearable_imports")

    def rollup():
        h = WearableHourly
        return sorted(h.select(h.type, h.hour_ms, h.source, h.count, h.sum, h.min, h.max).tuples())
    with app.app_context(), database.obj.connection_context():
        built = rollup()
        WearableHourly.delete().execute()
        with database.atomic():
            migration.rebuild_rollup(database.obj)
        assert rollup() == built and len(built) == 15
