"""How ingest stores a batch, called without HTTP: stored and repeated rows, odd text through
COPY (PostgreSQL) or executemany (SQLite), all-or-nothing, key order and the rollup's fast path.
Runs on whichever backend the suite runs on (AVYCENNA_TEST_DATABASE_URL)."""
import json
import random

import pytest

from avycenna.db import database
from avycenna.wearables import service
from avycenna.wearables.models import WearableHourly, WearableSample

T0 = 1_790_000_000_000  # 2026-09-21, epoch ms
HOUR = 3600 * 1000


def hr(start, value=70):
    return ("heart_rate", start, None, value, None)


def ingest(app, patient, rows, source="watch"):
    with app.app_context(), database.obj.connection_context():
        return service.ingest(patient, source, rows, user_id=patient.account_id)


def stored(app, patient):
    """(sorted sample tuples, {(type, hour_ms, source): count})"""
    with app.app_context(), database.obj.connection_context():
        w, h = WearableSample, WearableHourly
        samples = sorted(w.select(w.type, w.source, w.start_ms, w.end_ms, w.value, w.value2, w.detail)
                         .where(w.patient == patient.id).tuples(), key=repr)
        hourly = {(t, hour, s): n for t, hour, s, n in
                  h.select(h.type, h.hour_ms, h.source, h.count).where(h.patient == patient.id).tuples()}
    return samples, hourly


def test_stored_and_repeated_rows_are_counted_as_duplicates_and_kept_once(app, patient):
    first = [hr(T0 + i * 1000) for i in range(100)]
    assert ingest(app, patient, first)["inserted"] == 100
    # 50 stored, 50 new, the new ones each sent twice, and a row differing only in value
    batch = first[50:] + [hr(T0 + i * 1000) for i in range(100, 150)] * 2 + [hr(T0, 71)]
    random.Random(5).shuffle(batch)
    result = ingest(app, patient, batch)
    assert (result["inserted"], result["duplicates"]) == (51, 100)
    samples, hourly = stored(app, patient)
    assert len(samples) == 151 and len(set(samples)) == 151
    assert sum(hourly.values()) == 151
    assert ingest(app, patient, batch)["inserted"] == 0  # idempotent


def test_the_same_rows_from_another_source_are_stored_again(app, patient):
    rows = [hr(T0 + i * 1000) for i in range(10)]
    assert ingest(app, patient, rows, "watch")["inserted"] == 10
    assert ingest(app, patient, rows, "ring")["inserted"] == 10
    assert ingest(app, patient, rows, "ring")["duplicates"] == 10


@pytest.mark.parametrize("source", ["tab\there", "new\nline", "back\\slash\\N", "ret\rurn", "ünïcode ✓"])
def test_any_source_text_is_stored_as_sent(app, patient, source):
    assert ingest(app, patient, [hr(T0), hr(T0 + 1000)], source)["inserted"] == 2
    samples, hourly = stored(app, patient)
    assert {s[1] for s in samples} == {source}
    assert list(hourly) == [("heart_rate", T0 - T0 % HOUR, source)]
    assert ingest(app, patient, [hr(T0)], source)["duplicates"] == 1


def test_mixed_rows_keep_their_ends_second_values_and_details(app, patient):
    detail = json.dumps({"activity": "a\\b\tc\nd", "duration": 30}, sort_keys=True)
    rows = [("steps", T0, T0 + 60_000, 120, None), ("steps", T0, None, 5, None),
            ("blood_pressure", T0, None, 120.5, 80.25), ("sleep", T0, T0 + 3_600_000, 2.0, None),
            ("workout", T0, T0 + 1_800_000, 30.0, None, detail), hr(T0, 1e-7), hr(T0 + 1, 1234567.125)]
    assert ingest(app, patient, rows)["inserted"] == len(rows)
    samples, _ = stored(app, patient)
    expected = sorted(((t, "watch", s, e, float(v), v2, d[0] if d else None) for t, s, e, v, v2, *d in rows),
                      key=repr)
    assert samples == expected
    assert ingest(app, patient, list(reversed(rows)))["duplicates"] == len(rows)


def test_a_failure_after_the_samples_are_written_stores_nothing(app, patient, monkeypatch):
    rows = [hr(T0 + i * 1000) for i in range(50)]

    def broken(*args, **kwargs):
        raise RuntimeError("rollup failed")
    monkeypatch.setattr(service, "add_to_rollup", broken)
    with pytest.raises(RuntimeError):
        ingest(app, patient, rows)
    assert stored(app, patient) == ([], {})
    monkeypatch.undo()
    assert ingest(app, patient, rows)["inserted"] == 50  # the stream's lock went with the rollback


def test_a_row_the_database_refuses_rolls_back_the_batch(app, patient):
    rows = [hr(T0 + i * 1000) for i in range(50)] + [hr(T0 + 60_000, None)]  # value is NOT NULL
    with pytest.raises(Exception):
        ingest(app, patient, rows)
    assert stored(app, patient) == ([], {})
    assert ingest(app, patient, rows[:50])["inserted"] == 50


def test_key_order_is_the_identity_order():
    rng = random.Random(7)
    rows = [(rng.choice(["heart_rate", "steps"]), T0 + rng.randrange(5) * 1000,
             rng.choice([None, T0 + 9000]), float(rng.randrange(3)), rng.choice([None, 1.0]))
            for _ in range(300)]
    assert service.key_order(rows) == sorted(rows, key=service.identity)
    plain = [hr(T0 + rng.randrange(50) * 1000, rng.randrange(3)) for _ in range(300)]
    assert service.key_order(plain) == sorted(plain, key=service.identity)
    # a workout's details are not part of its identity: the first sent stays first
    workouts = [("workout", T0, T0 + 60_000, 1.0, None, d) for d in ('{"b"}', '{"a"}')]
    assert service.key_order(workouts) == workouts
    assert service.first_of_each(service.key_order(workouts)) == workouts[:1]


def test_the_rollup_fast_path_matches_the_general_loop():
    rng = random.Random(3)
    runs = [sorted((hr(T0 + rng.randrange(6 * HOUR), rng.randrange(40, 200)) for _ in range(2000)),
                   key=service.identity),
            [hr(T0 + i * 7 * HOUR) for i in range(5)],  # hours skipped
            [("body_weight", T0 + i, None, 70.5 + i, None) for i in range(3)]]
    for rows in (*runs, runs[0] + runs[2], runs[2] + runs[0][:10] + runs[2]):  # a type met twice
        assert service.hourly_buckets(rows) == service._general_buckets(rows)


def test_stored_keys_finds_stored_rows_of_rows_in_any_order(app, patient):
    rows = [hr(T0 + i * 1000) for i in range(0, 20, 2)] + [("steps", T0 + i, None, 5, None) for i in range(3)]
    ingest(app, patient, rows)
    mixed = [rows[3], rows[11], rows[0], rows[12], rows[9], hr(T0 + 1000)]
    with app.app_context(), database.obj.connection_context():
        found = service.stored_keys(service._patient_key(patient), "watch", mixed)
    assert found == {service.identity(r) for r in rows if r is not rows[10]}  # each type's span: T0 + 1 … for steps


def test_postgresql_ingest_waits_for_a_writer_of_the_same_stream(app, patient, database_url):
    """A row another transaction of the same patient and source is writing counts as a duplicate
    once that transaction commits: COPY never meets it as a unique violation."""
    if not database_url.startswith("postgres"):
        pytest.skip("the PostgreSQL stream lock")
    import threading
    import time

    import psycopg2

    other = psycopg2.connect(database_url)
    try:
        with other.cursor() as cur:  # what a concurrent ingest of this stream holds and writes
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                        (service.ADVISORY_CLASS, str(patient.id) + "/watch"))
            cur.execute("INSERT INTO wearable_sample (patient_id, type, source, start_ms, value) "
                        "VALUES (%s, 'heart_rate', 'watch', %s, 70)", (str(patient.id), T0))
        results = []
        worker = threading.Thread(target=lambda: results.append(ingest(app, patient, [hr(T0), hr(T0 + 1000)])))
        worker.start()
        time.sleep(0.5)
        assert results == [] and worker.is_alive()  # waiting for the stream
        other.commit()
        worker.join(10)
    finally:
        other.close()
    assert (results[0]["inserted"], results[0]["duplicates"]) == (1, 1)
    assert len(stored(app, patient)[0]) == 2
