"""Hourly 30-day summary from the rollup vs a GROUP BY over the raw samples.

One patient gets 30 days of 1 Hz heart rate (2,592,000 samples) through the same
service function the API uses. Then, in the same run: the summary endpoint
(in-process test client, with API-key auth and audit) for 30 days of hourly
buckets, and the equivalent `GROUP BY hour` over the raw rows. Ratio = raw time /
summary time (target ≥ 20). A 1-day summary shows the cost follows the buckets.
"""
import statistics
import tempfile
import time

from bench.setup import HOUR_MS, make_instance

DAYS = 30
PER_BATCH = 10_000
T0 = 1_785_000_000_000 - 1_785_000_000_000 % (24 * HOUR_MS)  # a UTC midnight in 2026


def seed(app, patient):
    from avycenna.db import database
    from avycenna.wearables.service import ingest

    total = DAYS * 24 * 3600
    with app.test_request_context(), database.obj.connection_context():
        for first in range(0, total, PER_BATCH):
            rows = [("heart_rate", T0 + s * 1000, None, float(55 + (s * 7919) % 60), None)
                    for s in range(first, min(first + PER_BATCH, total))]
            ingest(patient, "bench_watch", rows)
    return total


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def main():
    with tempfile.TemporaryDirectory() as instance:
        app, patient, key = make_instance(instance)
        started = time.perf_counter()
        total = seed(app, patient)
        seeded = time.perf_counter() - started
        client = app.test_client()
        end = T0 + DAYS * 24 * HOUR_MS

        def summary(days):
            url = (f"/api/v1/patients/{patient.id}/wearables/summary?type=heart_rate&bucket=hour"
                   f"&start={iso(end - days * 24 * HOUR_MS)}&end={iso(end)}")
            r = client.get(url, headers={"X-API-Key": key})
            assert r.status_code == 200 and len(r.get_json()["data"]) == days * 24
            return r

        def group_by():
            from avycenna.db import database

            with app.app_context(), database.obj.connection_context():
                rows = database.execute_sql(
                    "SELECT start_ms / 3600000, COUNT(*), MIN(value), MAX(value), AVG(value) "
                    "FROM wearable_sample WHERE patient_id = ? AND type = ? AND start_ms >= ? AND start_ms < ? "
                    "GROUP BY start_ms / 3600000", (patient.id.hex, "heart_rate", T0, end)).fetchall()
            assert len(rows) == DAYS * 24

        t_summary = timed(lambda: summary(DAYS), 7)
        t_day = timed(lambda: summary(1), 7)
        t_raw = timed(group_by, 3)
    print(f"summary: {total:,} heart-rate samples (30 days at 1 Hz), seeded through ingest() in {seeded:.1f}s")
    print(f"  GROUP BY over raw rows     : {t_raw * 1000:8.1f} ms  (720 hourly buckets)")
    print(f"  summary endpoint, 30 days  : {t_summary * 1000:8.1f} ms  (720 buckets, via the hourly rollup)")
    print(f"  summary endpoint, 1 day    : {t_day * 1000:8.1f} ms  (24 buckets)")
    print(f"  ratio (raw / summary)      : {t_raw / t_summary:8.1f}x")
    return {"raw": t_raw, "summary": t_summary, "day": t_day}


if __name__ == "__main__":
    main()
