"""Ingestion through the whole HTTP stack vs a raw sqlite3.executemany of the same rows.

The server (`python app.py`, waitress) runs in a subprocess on its own SQLite
instance; requests carry an API key, are validated, deduped, rolled up and audited.
The baseline inserts the same canonical rows with `executemany` into the same
table and indexes (another instance built by the same migrations), committing
once per batch as the server does, with the same `synchronous` setting (FULL by default:
every commit synced; `python -m bench.ingest --synchronous normal` measures the faster,
power-loss-unsafe setting). Ratio = HTTP rate / raw rate (target ≥ 0.5).
Then the same on PostgreSQL when it answers on 127.0.0.1: the server on one fresh database,
and the baseline a COPY of the same rows into another built by the same migrations.
"""
import argparse
import io
import json
import sqlite3
import tempfile
import time

import requests

from bench.setup import drop_pg_database, free_port, make_instance, pg_database, start_server, stop_server

BATCHES = 20
BATCH = 10_000
T0 = 1_790_000_000_000  # 2026-09-21, epoch ms


def batches(offset_ms):
    """BATCHES lists of 1 Hz heart-rate (start_ms, value) pairs."""
    out = []
    for b in range(BATCHES):
        base = T0 + offset_ms + b * BATCH * 1000
        out.append([(base + i * 1000, 55 + (i * 7919) % 60) for i in range(BATCH)])
    return out


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + "Z"


def basic_body(batch):
    return json.dumps({"source": "bench_watch", "samples": [
        {"type": "heart_rate", "start": iso(t), "value": v, "unit": "count/min"} for t, v in batch]}).encode()


def compact_body(batch):
    return json.dumps({"source": "bench_watch", "series": [{
        "type": "heart_rate", "unit": "count/min", "start": [t for t, _ in batch],
        "value": [v for _, v in batch]}]}).encode()


class Http:
    """POSTs pre-serialized bodies to the server, timing each."""

    def __init__(self, base_url, key, patient_id):
        self.session = requests.Session()
        self.headers = {"X-API-Key": key, "Content-Type": "application/json"}
        self.url = f"{base_url}/api/v1/patients/{patient_id}/wearables"

    def send(self, body):
        started = time.perf_counter()
        r = self.session.post(self.url, data=body, headers=self.headers)
        elapsed = time.perf_counter() - started
        assert r.status_code == 200 and r.json()["inserted"] == BATCH, r.text[:300]
        return elapsed


class Raw:
    """executemany into the same table and indexes, one transaction per batch."""

    SQL = ("INSERT INTO wearable_sample (patient_id, type, source, start_ms, end_ms, value, value2) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")

    def __init__(self, db_path, patient_hex, synchronous):
        self.patient = patient_hex
        self.conn = sqlite3.connect(db_path, isolation_level=None)
        for pragma in ("journal_mode = wal", f"synchronous = {synchronous}", "foreign_keys = 1",
                       "cache_size = -16000"):
            self.conn.execute("PRAGMA " + pragma)

    def send(self, batch):
        started = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.SQL, [(self.patient, "heart_rate", "bench_watch", t, None, float(v), None)
                                         for t, v in batch])
        self.conn.execute("COMMIT")
        return time.perf_counter() - started


class RawPostgres:
    """COPY into the same PostgreSQL table and indexes, one transaction per batch."""

    COPY = "COPY wearable_sample (patient_id, type, source, start_ms, end_ms, value, value2) FROM STDIN"

    def __init__(self, url, patient_id):
        import psycopg2

        self.patient = str(patient_id)
        self.conn = psycopg2.connect(url)

    def send(self, batch):
        started = time.perf_counter()
        data = io.StringIO("".join(f"{self.patient}\theart_rate\tbench_watch\t{t}\t\\N\t{float(v)}\t\\N\n"
                                   for t, v in batch))
        with self.conn.cursor() as cur:
            cur.copy_expert(self.COPY, data)
        self.conn.commit()
        return time.perf_counter() - started


def main(synchronous="full"):
    rates = run_sqlite(synchronous)
    served_url, raw_url = pg_database(), pg_database()
    if served_url is None:
        print("\ningest (PostgreSQL): skipped, not reachable on 127.0.0.1")
        return rates
    try:
        run_postgres(served_url, raw_url)
    finally:
        drop_pg_database(served_url)
        drop_pg_database(raw_url)
    return rates


def run_postgres(served_url, raw_url):
    """The server on one fresh PostgreSQL database, COPY into another built by the same migrations."""
    with tempfile.TemporaryDirectory() as served, tempfile.TemporaryDirectory() as raw_dir:
        _, patient, key = make_instance(served, served_url)
        _, raw_patient, _ = make_instance(raw_dir, raw_url)
        raw = RawPostgres(raw_url, raw_patient.id)
        port = free_port()
        proc = start_server(served, port, {"DATABASE_URL": served_url})
        try:
            rates = alternate(raw, port, key, patient)
        finally:
            stop_server(proc)
            raw.conn.close()
    report("PostgreSQL", "raw COPY", rates)
    return rates


def run_sqlite(synchronous):
    """The server on a fresh SQLite instance, executemany into another with the same pragmas."""
    with tempfile.TemporaryDirectory() as served, tempfile.TemporaryDirectory() as raw_dir:
        _, patient, key = make_instance(served)
        _, raw_patient, _ = make_instance(raw_dir)
        raw = Raw(raw_dir + "/avycenna.sqlite3", raw_patient.id.hex, synchronous)
        port = free_port()
        proc = start_server(served, port, {"AVYCENNA_SQLITE_SYNCHRONOUS": synchronous})
        try:
            rates = alternate(raw, port, key, patient)
        finally:
            stop_server(proc)
            raw.conn.close()
    report(f"SQLite synchronous={synchronous}", "raw sqlite3.executemany", rates)
    return rates


def alternate(raw, port, key, patient):
    """Raw and HTTP batches alternate, so a busy neighbour on the machine slows both alike."""
    samples = BATCHES * BATCH
    basic, compact = batches(0), batches(BATCHES * BATCH * 1000)
    basic_bodies, compact_bodies = [basic_body(b) for b in basic], [compact_body(b) for b in compact]
    times = {"raw": 0.0, "basic": 0.0, "compact": 0.0}
    http = Http(f"http://127.0.0.1:{port}", key, patient.id)
    for i in range(BATCHES):
        times["raw"] += (raw.send(basic[i]) + raw.send(compact[i])) / 2
        times["basic"] += http.send(basic_bodies[i])
        times["compact"] += http.send(compact_bodies[i])
    return {name: samples / t for name, t in times.items()}


def report(backend, baseline, rates):
    print(f"ingest: {BATCHES} batches x {BATCH:,} heart-rate samples per run (1 Hz, one request each), {backend}")
    print(f"  {baseline:<24}: {rates['raw']:>10,.0f} samples/s")
    for name, label in (("basic", "HTTP basic form"), ("compact", "HTTP compact form")):
        print(f"  {label:<24}: {rates[name]:>10,.0f} samples/s   ratio to raw {rates[name] / rates['raw']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    main(parser.parse_args().synchronous)
