"""FHIR bulk export: the `$export` job vs a raw dump of the same rows, and its memory as data grows.

One patient gets N heart-rate samples (1 Hz) through `ingest()`. Then, in the same run: the
export job (`run_export`, as a worker runs it: keyset batches → Observation resources →
ndjson lines) and, as the baseline, one `SELECT` over the same rows written as JSON arrays.
Ratio = export time / raw-dump time: the price of real FHIR resources. Peak Python memory
(tracemalloc) of the export at N and 4N shows it stays flat as the data grows.
"""
import json
import os
import tempfile
import time
import tracemalloc

from bench.setup import make_instance

T0 = 1_785_000_000_000
SIZES = (50_000, 200_000)


def seed(app, patient, total, first=0):
    from avycenna.db import database
    from avycenna.wearables.service import ingest

    with app.test_request_context(), database.obj.connection_context():
        for start in range(first, total, 10_000):
            ingest(patient, "bench_watch", [("heart_rate", T0 + s * 1000, None, float(55 + s % 60), None)
                                            for s in range(start, min(start + 10_000, total))])


def export_once(app, user_id, traced=False):
    """(seconds, peak bytes or None, lines written) of one export job run."""
    from avycenna.db import database
    from avycenna.fhir.export import file_path, run_export
    from avycenna.fhir.models import FhirExport

    with app.app_context(), database.obj.connection_context():
        export = FhirExport.create(user=user_id, types="Patient,Observation", request_url="bench")
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    run_export.call_local(export.id)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    with app.app_context(), database.obj.connection_context():
        export = FhirExport.get_by_id(export.id)
        assert export.status == "done", export.status
        path = file_path(export, "Observation")
    with open(path, "rb") as fh:
        lines = sum(1 for _ in fh)
    return elapsed, peak, lines


def raw_dump(app, patient, path):
    from avycenna.db import database

    started = time.perf_counter()
    with app.app_context(), database.obj.connection_context(), open(path, "w") as out:
        cursor = database.execute_sql("SELECT id, type, source, start_ms, end_ms, value, value2 FROM "
                                      "wearable_sample WHERE patient_id = ? ORDER BY start_ms, id",
                                      (patient.id.hex,))
        for row in cursor:
            out.write(json.dumps(row) + "\n")
    return time.perf_counter() - started


def main():
    results = []
    with tempfile.TemporaryDirectory() as instance:
        app, patient, _ = make_instance(instance)
        seeded = 0
        for size in SIZES:
            seed(app, patient, size, first=seeded)
            seeded = size
            t_export, _, lines = export_once(app, patient.account_id)
            assert lines == size
            t_raw = raw_dump(app, patient, os.path.join(instance, "raw.jsonl"))
            _, peak, _ = export_once(app, patient.account_id, traced=True)
            results.append((size, t_export, t_raw, peak))
    print("fhir export: one patient's heart rate, Patient/$export job vs a raw SELECT dump (SQLite)")
    for size, t_export, t_raw, peak in results:
        print(f"  {size:>9,} samples: export {t_export:6.2f} s ({size / t_export:9,.0f} Observations/s), "
              f"raw dump {t_raw:5.2f} s, ratio {t_export / t_raw:4.1f}x, peak memory {peak / 2**20:5.1f} MiB")
    growth = results[-1][3] / results[0][3]
    print(f"  peak memory at {SIZES[-1] // SIZES[0]}x the data: {growth:.2f}x (flat = streaming)")
    return results


if __name__ == "__main__":
    main()
