"""Nothing lost: SIGKILL the real server mid-stream; acknowledged batches are whole, none is partial."""
import sqlite3
import threading

import requests

from bench.setup import make_instance
from tests.test_instance import free_port, start_server, stop

BATCH = 2000
T0 = 1_790_000_000_000  # 2026-09-21, epoch ms


def body(k):
    starts = [T0 + (k * BATCH + i) * 1000 for i in range(BATCH)]
    return {"source": "watch", "series": [{"type": "heart_rate", "unit": "count/min", "start": starts,
                                           "value": [60 + i % 40 for i in range(BATCH)]}]}


class Stream(threading.Thread):
    """Posts batch 0, 1, 2 … until the server goes away; remembers which were acknowledged."""

    def __init__(self, url, key):
        super().__init__(daemon=True)
        self.url, self.headers = url, {"X-API-Key": key}
        self.acked, self.failures = [], []
        self.enough = threading.Event()

    def run(self):
        session = requests.Session()
        k = 0
        while True:
            try:
                r = session.post(self.url, json=body(k), headers=self.headers, timeout=60)
            except requests.RequestException:
                break
            if r.status_code != 200 or r.json()["inserted"] != BATCH:
                self.failures.append((k, r.status_code, r.text[:200]))
                break
            self.acked.append(k)
            if len(self.acked) >= 5:
                self.enough.set()
            k += 1
        session.close()
        self.enough.set()


def per_batch_counts(db_path):
    conn = sqlite3.connect(db_path)
    try:
        counts = dict(conn.execute(
            f"SELECT (start_ms - {T0}) / {BATCH * 1000}, COUNT(*) FROM wearable_sample GROUP BY 1").fetchall())
        rolled_up = conn.execute("SELECT COALESCE(SUM(count), 0) FROM wearable_hourly").fetchone()[0]
        audited = conn.execute("SELECT COUNT(*) FROM audit_event WHERE action = 'wearables.ingest'").fetchone()[0]
    finally:
        conn.close()
    return counts, rolled_up, audited


def test_sigkill_mid_stream_keeps_every_acknowledged_batch_whole(tmp_path):
    instance = tmp_path / "instance"
    _, patient, key = make_instance(str(instance))  # the database `python app.py` will open
    patient_id = patient.id
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/patients/{patient_id}/wearables"
    proc = start_server(instance, port)
    stream = Stream(url, key)
    stream.start()
    try:
        assert stream.enough.wait(120), "the stream never got going"
        proc.kill()  # SIGKILL: no shutdown, no flush, mid-request
    finally:
        proc.kill()
        proc.communicate()
    stream.join(120)
    assert not stream.failures and len(stream.acked) >= 5

    proc = start_server(instance, port)  # restarts on the same files (WAL recovery)
    try:
        counts, rolled_up, audited = per_batch_counts(instance / "avycenna.sqlite3")
        assert all(counts.get(k) == BATCH for k in stream.acked), "an acknowledged batch is missing rows"
        assert set(counts.values()) == {BATCH}, f"a batch is there in part: {counts}"
        assert rolled_up == sum(counts.values()) and audited == len(counts)
        in_flight = len(stream.acked)  # the batch being sent when the server died: resending is safe
        r = requests.post(url, json=body(in_flight), headers={"X-API-Key": key}, timeout=60)
        assert r.status_code == 200 and r.json()["inserted"] + r.json()["duplicates"] == BATCH
        assert r.json()["inserted"] in (0, BATCH)
    finally:
        stop(proc)
