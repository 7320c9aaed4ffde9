"""Apple Health import of a generated export.xml (≥ 1 GB) vs a raw iterparse of the same file.

For each size an export is generated on the fly into a temp folder (heart rate with
device strings and metadata, steps, active energy, sleep stages, blood-pressure
correlations, workouts; 24- and 12-hour clocks), then, each in its own subprocess so
peak memory (ru_maxrss) is that run's alone:
  - baseline: `iterparse` over the file, clearing finished elements, counting them;
  - import: `import_export()` into a fresh SQLite instance (checks, dedupe, rollup, audit).
Ratio = import time / raw parse time. Peak memory should stay flat as the file grows.
Then each hostile file of tests/hostile_exports.py at full size (4,000,000 nested elements,
1 GiB of whitespace, a 256 MiB attribute, 300,000 distinct unknown types) is imported the
same way: peak memory, records/s and how the import ended. The exports and the instance are
deleted afterwards.

Last, fairness through the real server: `python app.py` (its embedded workers: 2 default,
2 bulk) on a fresh SQLite instance, two accounts uploading over HTTP. How long another
account's small import takes from its upload to `done` (and to its `wearables.ingested` webhook
reaching a receiver on 127.0.0.1) while a large import (BENCH_IMPORT_FAIR_MB of export.xml,
default 256) runs, against the same small import on idle workers.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date

HOSTILE_KINDS = [k for k in os.environ.get("BENCH_IMPORT_HOSTILE", "deep nesting,whitespace,long attribute,distinct types")
                 .split(",") if k]
SIZES_MB = [int(s) for s in os.environ.get("BENCH_IMPORT_SIZES_MB", "256,1024").split(",")]
FAIR_MB = int(os.environ.get("BENCH_IMPORT_FAIR_MB", "256"))
SMALL_RUNS = 5  # small imports timed on idle workers, and while the large one runs
T0 = 1_735_689_600  # 2025-01-01 UTC, seconds
DEVICE = ("&lt;&lt;HKDevice: 0x283f2c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
          "hardware:Watch6,1, software:10.1&gt;")
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-21 10:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-05-17"/>
"""


def stamp(seconds, twelve):
    t = time.gmtime(seconds)
    if twelve:
        return time.strftime("%Y-%m-%d %I:%M:%S %p +0000", t).replace(" 0", " ", 1)
    return time.strftime("%Y-%m-%d %H:%M:%S +0000", t)


def record(kind, source, unit, start, end, value, twelve, extra=""):
    s, e = stamp(start, twelve), stamp(end, twelve)
    attrs = (f' type="{kind}" sourceName="{source}" sourceVersion="10.1" device="{DEVICE}" unit="{unit}" '
             f'creationDate="{e}" startDate="{s}" endDate="{e}" value="{value}"')
    return f" <Record{attrs}/>\n" if not extra else f" <Record{attrs}>\n{extra} </Record>\n"


def chunk(i):
    """The records of step i (five seconds of a life, give or take)."""
    t = T0 + i * 5
    twelve = (i // 100_000) % 2 == 1  # the phone's clock setting changed now and then
    q = "HKQuantityTypeIdentifier"
    out = [record(q + "HeartRate", "Kim’s Apple Watch", "count/min", t, t, 55 + i % 60, twelve,
                  '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n' if i % 10 == 0 else "")]
    if i % 2 == 0:
        out.append(record(q + "StepCount", "Kim’s iPhone", "count", t, t + 60, 10 + i % 90, twelve))
    if i % 5 == 0:
        out.append(record(q + "ActiveEnergyBurned", "Kim’s Apple Watch", "kcal", t, t + 60, 0.5 + i % 7, twelve))
    if i % 25 == 0:
        stage = ("AsleepCore", "AsleepDeep", "AsleepREM", "Awake", "InBed")[i // 25 % 5]
        out.append(record("HKCategoryTypeIdentifierSleepAnalysis", "Kim’s Apple Watch", "",
                          t, t + 120, "HKCategoryValueSleepAnalysis" + stage, twelve))
    if i % 200 == 0:
        s = stamp(t, twelve)
        parts = "".join(record(q + name, "Cuff", "mmHg", t, t, v, twelve)
                        for name, v in (("BloodPressureSystolic", 110 + i % 30), ("BloodPressureDiastolic", 70 + i % 15)))
        out.append(f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Cuff" '
                   f'startDate="{s}" endDate="{s}">\n{parts} </Correlation>\n')
    if i % 1000 == 0:
        s, e = stamp(t, twelve), stamp(t + 1800, twelve)
        out.append(f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
                   f'sourceName="Kim’s Apple Watch" startDate="{s}" endDate="{e}">\n'
                   f'  <WorkoutStatistics type="{q}HeartRate" startDate="{s}" endDate="{e}" average="148" '
                   f'minimum="96" maximum="171" unit="count/min"/>\n'
                   f'  <WorkoutStatistics type="{q}DistanceWalkingRunning" startDate="{s}" endDate="{e}" '
                   f'sum="5.2" unit="km"/>\n </Workout>\n')
    return "".join(out)


def generate(path, megabytes):
    """Write an export of about `megabytes` MB; returns its size in bytes."""
    target, written, i = megabytes * 1024 * 1024, 0, 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        while written < target:
            block = "".join(chunk(j) for j in range(i, i + 2000))
            fh.write(block)
            written += len(block.encode())
            i += 2000
        fh.write("</HealthData>\n")
    return os.path.getsize(path)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_parse(path):
    from xml.etree.ElementTree import iterparse

    started, depth, root, n = time.perf_counter(), 0, None, 0
    for event, elem in iterparse(path, events=("start", "end")):
        if event == "start":
            depth += 1
            root = root if root is not None else elem
            continue
        depth -= 1
        if depth == 1:
            n += 1
            root.clear()
    return {"seconds": time.perf_counter() - started, "elements": n, "peak_mb": peak_mb()}


def child_import(path):
    import logging

    from avycenna.db import database
    from avycenna.wearables.apple_health import ExportUnreadable, import_export
    from bench.setup import make_instance

    logging.disable(logging.INFO)
    outcome = "done"
    with tempfile.TemporaryDirectory() as instance:
        app, patient, _ = make_instance(instance)
        with app.app_context(), database.obj.connection_context():
            started = time.perf_counter()
            try:
                counts, skipped = import_export(patient, path)
            except ExportUnreadable as error:
                counts, skipped, outcome = error.counts, error.skipped, str(error)
            seconds = time.perf_counter() - started
    return {"seconds": seconds, "inserted": counts["inserted"], "duplicates": counts["duplicates"],
            "skipped": sum(skipped.values()), "kinds": len(skipped), "peak_mb": peak_mb(), "outcome": outcome}


def run_child(mode, path):
    out = subprocess.run([sys.executable, "-m", "bench.imports", mode, path], check=True, capture_output=True,
                         text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    print("imports: generated Apple Health export.xml, each run in its own process")
    for megabytes in [m for m in SIZES_MB if m]:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "export.xml")
            started = time.perf_counter()
            size = generate(path, megabytes)
            made = time.perf_counter() - started
            raw = run_child("parse", path)
            imported = run_child("import", path)
        mb = size / 1024 / 1024
        print(f"  {mb:,.0f} MB export ({raw['elements']:,} top-level elements, generated in {made:.0f}s)")
        print(f"    raw iterparse + clear : {raw['seconds']:7.1f} s  {raw['elements'] / raw['seconds']:>10,.0f} "
              f"elements/s  {mb / raw['seconds']:6.1f} MB/s  peak {raw['peak_mb']:5.0f} MB")
        print(f"    import_export()       : {imported['seconds']:7.1f} s  "
              f"{imported['inserted'] / imported['seconds']:>10,.0f} samples/s  {mb / imported['seconds']:6.1f} MB/s"
              f"  peak {imported['peak_mb']:5.0f} MB  ({imported['inserted']:,} stored, "
              f"{imported['skipped']:,} skipped)")
        print(f"    ratio (import / raw parse time): {imported['seconds'] / raw['seconds']:.1f}x")
    hostile()
    if FAIR_MB:
        fairness()


def hostile():
    """Each hostile export at full size: peak memory, records/s, how it ended."""
    from tests.hostile_exports import HOSTILE

    if not HOSTILE_KINDS:
        return
    print("  hostile exports (export.zip, full size), import_export() in its own process")
    for name, make in HOSTILE.items():
        if name not in HOSTILE_KINDS:
            continue
        with tempfile.TemporaryDirectory() as folder:
            path = make(os.path.join(folder, "export.zip"))
            size = os.path.getsize(path)
            done = run_child("import", path)
        records = done["inserted"] + done["duplicates"] + done["skipped"]
        print(f"    {name:<15} {size / 1024:8,.0f} KB zip  {done['seconds']:6.1f} s  "
              f"{records / done['seconds']:>10,.0f} records/s  peak {done['peak_mb']:5.0f} MB  "
              f"({records:,} records, {done['kinds']} skipped kinds shown)")
        print(f"      {done['outcome'][:150]}")


def large_zip(path, megabytes):
    """An export.zip of `megabytes` MB of export.xml (the generator above), written as a stream."""
    import zipfile

    target, written, i = megabytes << 20, 0, 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("apple_health_export/export.xml", "w", force_zip64=True) as member:
            member.write(HEAD.encode())
            while written < target:
                block = "".join(chunk(j) for j in range(i, i + 2000)).encode()
                member.write(block)
                written += len(block)
                i += 2000
            member.write(b"</HealthData>\n")
    return path


def fairness():
    """Another account's small import (and its webhook) on idle workers, then while a large import runs."""
    import logging
    import statistics

    import requests

    from avycenna.api_keys.service import create_key
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.patients.models import Patient
    from bench.setup import free_port, make_instance, start_server, stop_server
    from tests.webhook_receiver import Receiver

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        instance = os.path.join(folder, "instance")
        app, alice_patient, alice_key = make_instance(instance)
        with app.app_context(), database.obj.connection_context():
            bob = create_user("bob@example.test")
            _, bob_key = create_key(bob, "bench")
            bob_patient = Patient.create(account=bob, name="Bob", date_of_birth=date(1981, 2, 3), relationship="self")
        big = large_zip(os.path.join(folder, "export.zip"), FAIR_MB)
        receiver = Receiver().start()
        port = free_port()
        base = f"http://127.0.0.1:{port}/api/v1"
        proc = start_server(instance, port, {"AVYCENNA_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
                                             "AVYCENNA_RATELIMIT_API_KEY": "100000/minute"})
        http = requests.Session()
        try:
            bob_headers, alice_headers = {"X-API-Key": bob_key}, {"X-API-Key": alice_key}
            http.post(base + "/webhook-endpoints", headers=bob_headers, timeout=30,
                      json={"url": receiver.url(), "events": ["wearables.ingested"]}).raise_for_status()

            def upload(patient, headers, path):
                with open(path, "rb") as fh:
                    r = http.post(f"{base}/patients/{patient.id}/imports", headers=headers, timeout=120,
                                  files={"file": ("export.zip", fh)})
                r.raise_for_status()
                return r.json()["id"]

            def state(patient, headers, import_id):
                return http.get(f"{base}/patients/{patient.id}/imports/{import_id}", headers=headers,
                                timeout=30).json()

            def small(run=[0]):
                """Seconds from Bob's upload (an export of 100 samples he has not sent before) to
                `done`, and to his webhook."""
                run[0] += 1
                path = os.path.join(folder, "small.xml")
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(HEAD + "".join(chunk(run[0] * 1_000_000 + i) for i in range(50)) + "</HealthData>\n")
                seen = len(receiver.requests)
                started = time.perf_counter()
                import_id = upload(bob_patient, bob_headers, path)
                done = hooked = None
                deadline = started + 300
                while done is None or hooked is None:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"Bob's import or its webhook did not come: done {done}, webhook {hooked}, "
                                           f"{state(bob_patient, bob_headers, import_id)}")
                    if done is None and state(bob_patient, bob_headers, import_id)["status"] in ("done", "failed"):
                        done = time.perf_counter() - started
                    if hooked is None and len(receiver.requests) > seen:
                        hooked = time.perf_counter() - started
                    time.sleep(0.02)
                return done, hooked

            idle = [small() for _ in range(SMALL_RUNS)]
            large_started = time.perf_counter()
            large = upload(alice_patient, alice_headers, big)
            while state(alice_patient, alice_headers, large)["status"] == "queued":
                time.sleep(0.01)
            busy = [small() for _ in range(SMALL_RUNS)]
            still_running = state(alice_patient, alice_headers, large)["status"] == "running"
            while state(alice_patient, alice_headers, large)["status"] not in ("done", "failed"):
                time.sleep(0.05)
            large_seconds = time.perf_counter() - large_started
        finally:
            http.close()
            stop_server(proc)
            receiver.stop()

    def median(runs, i):
        return statistics.median(run[i] for run in runs)
    print(f"  fairness: python app.py (2 default + 2 bulk workers), SQLite; another account's small import "
          f"(median of {SMALL_RUNS}), from upload")
    busy_label = f"while a {FAIR_MB:,} MB import runs"
    print(f"    {'on idle workers':<30}: done {median(idle, 0):6.2f} s   webhook delivered "
          f"{median(idle, 1):6.2f} s")
    print(f"    {busy_label:<30}: done {median(busy, 0):6.2f} s   webhook delivered "
          f"{median(busy, 1):6.2f} s   (the large import: {large_seconds:.1f} s in all, "
          f"{'still running' if still_running else 'FINISHED'} after the last small one)")
    print(f"    ratio (while a large one runs / idle): {median(busy, 0) / median(idle, 0):.1f}x")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps({"parse": child_parse, "import": child_import}[sys.argv[1]](sys.argv[2])))
    else:
        main()
