"""Lists cost the same at any depth: page p50 deep in a list vs its first page.

Wearables: one patient with 1,000,000 heart-rate samples (1 Hz, stored with executemany,
the same rows ingest stores); `GET …/wearables` pages of 50 at the first row, at row
500,000 and at row 950,000 (the cursor a client would hold there). Encounters: one account
with 10 encounters beside one with 10,000; `GET /api/v1/encounters` (a first page of 10 for both,
every listed encounter audited). In-process test client with API-key auth; p50 of the
repeats. Ratios: deep page / first page (goal ≤ 1.2), 10,000 / 10 (goal ≈ 1).
"""
import statistics
import tempfile
import time
from datetime import timedelta

from bench.setup import make_instance

ROWS = 1_000_000
T0 = 1_790_000_000_000  # epoch ms
REPEAT = 21


def p50(fn, repeat=REPEAT):
    fn()  # warm
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def seed_samples(app, patient):
    from avycenna.db import database

    sql = ("INSERT INTO wearable_sample (patient_id, type, source, start_ms, end_ms, value, value2) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")
    with app.app_context(), database.obj.connection_context():
        conn = database.connection()
        for first in range(0, ROWS, 100_000):
            with database.atomic():
                conn.executemany(sql, ((patient.id.hex, "heart_rate", "bench_watch", T0 + i * 1000, None,
                                        float(55 + i % 60), None) for i in range(first, first + 100_000)))


def seed_encounters(app, count):
    from avycenna.auth.users import create_user
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.encounters.models import Encounter
    from avycenna.ids import new_id

    with app.app_context(), database.obj.connection_context():
        user = create_user(f"enc{count}@example.test")
        now = utcnow()
        rows = [{"id": new_id("enc"), "account": user.id, "status": "closed", "session_token_hash": new_id("s"),
                 "encounter_token_hash": new_id("e"), "token_expires_at": now,
                 "created_at": now - timedelta(minutes=count - i)} for i in range(count)]
        with database.atomic():
            for start in range(0, count, 500):
                Encounter.insert_many(rows[start:start + 500]).execute()
        from avycenna.api_keys.service import create_key
        return create_key(user, "bench")[1]


def cursor_at(app, url, row):
    """The cursor a client paging 50 at a time holds after `row` rows."""
    from avycenna.db import database
    from avycenna.pagination import encode_cursor

    with app.test_request_context(url), database.obj.connection_context():
        sample_id = database.execute_sql("SELECT id FROM wearable_sample WHERE start_ms = ?",
                                         (T0 + (row - 1) * 1000,)).fetchone()[0]
        return encode_cursor([T0 + (row - 1) * 1000, sample_id])


def main():
    with tempfile.TemporaryDirectory() as instance:
        app, patient, key = make_instance(instance)
        app.config.update(RATELIMIT_API_KEY="1000000/minute")
        started = time.perf_counter()
        seed_samples(app, patient)
        few, many = seed_encounters(app, 10), seed_encounters(app, 10_000)
        seeded = time.perf_counter() - started
        client = app.test_client()
        url = f"/api/v1/patients/{patient.id}/wearables"
        query = "?type=heart_rate&start=2026-09-01T00:00:00Z&end=2026-12-01T00:00:00Z&limit=50"

        def page(cursor=None):
            r = client.get(url + query + (f"&cursor={cursor}" if cursor else ""), headers={"X-API-Key": key})
            assert r.status_code == 200 and len(r.get_json()["data"]) == 50, r.get_data(as_text=True)[:300]

        def encounters(api_key, count):
            r = client.get("/api/v1/encounters?limit=10", headers={"X-API-Key": api_key})
            assert r.status_code == 200 and len(r.get_json()["data"]) == 10, r.get_data(as_text=True)[:300]

        deep = {row: cursor_at(app, url, row) for row in (500_000, 950_000)}
        times = {}
        for _ in range(3):  # interleaved rounds; p50 over all of them
            times.setdefault("first", []).append(p50(page, 7))
            for row, cursor in deep.items():
                times.setdefault(row, []).append(p50(lambda: page(cursor), 7))
            times.setdefault("few", []).append(p50(lambda: encounters(few, 10), 7))
            times.setdefault("many", []).append(p50(lambda: encounters(many, 10_000), 7))
        t = {name: statistics.median(runs) for name, runs in times.items()}
    print(f"lists: {ROWS:,} wearable samples and 10 + 10,000 encounters seeded in {seeded:.1f}s; "
          f"p50 of 3 interleaved rounds")
    print(f"  wearables first page       : {t['first'] * 1000:7.1f} ms")
    for row in deep:
        print(f"  wearables page at {row:>7,} : {t[row] * 1000:7.1f} ms   ratio to first page {t[row] / t['first']:.2f}")
    print(f"  encounters, 10 in account  : {t['few'] * 1000:7.1f} ms")
    print(f"  encounters, 10,000         : {t['many'] * 1000:7.1f} ms   ratio to 10 {t['many'] / t['few']:.2f}")
    return t


if __name__ == "__main__":
    main()
