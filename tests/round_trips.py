"""Counting what one request costs the shared parts: SQL statements sent through Peewee and
round trips to Redis (a pipeline is one). Used by tests/test_round_trips.py (the budget) and
`python -m bench scaleout` (which prints them).

The counts are of calls, not time, so they are the same on a busy machine as on an idle one.
"""
import contextlib
import uuid

import redis.connection

from avycenna.db import database

HOUR = "2026-11-20T08:{:02d}:00Z"


@contextlib.contextmanager
def counting():
    """Yields a dict whose "sql" and "redis" grow with every statement and round trip."""
    counts = {"sql": 0, "redis": 0}
    hooks = database.obj.query_hooks  # Peewee calls each with every statement it sends
    send = redis.connection.AbstractConnection.send_packed_command

    def counted_sql(event):
        counts["sql"] += 1

    def counted_send(self, *args, **kwargs):
        counts["redis"] += 1
        return send(self, *args, **kwargs)

    hooks.append(counted_sql)
    redis.connection.AbstractConnection.send_packed_command = counted_send
    try:
        yield counts
    finally:
        hooks.remove(counted_sql)
        redis.connection.AbstractConnection.send_packed_command = send


def endpoint_classes(client, jwt_headers, key_headers, patient_id):
    """Each endpoint class as (name, a function making one such request, the status it expects)."""
    def ingest():
        minute = uuid.uuid4().int % 60  # a new sample each time, never a duplicate
        sample = {"type": "heart_rate", "start": HOUR.format(minute), "value": 60 + minute, "unit": "count/min"}
        return client.post(f"/api/v1/patients/{patient_id}/wearables", headers=jwt_headers,
                           json={"source": "apple_watch", "samples": [sample]})

    query = "I have had a dry cough for three weeks, worse at night, no fever. " * 10
    return [
        ("health", lambda: client.get("/health"), 200),
        ("read with a JWT", lambda: client.get("/api/v1/auth/me", headers=jwt_headers), 200),
        ("read with an API key", lambda: client.get("/api/v1/auth/me", headers=key_headers), 200),
        ("list", lambda: client.get("/api/v1/patients", headers=jwt_headers), 200),
        ("ingest", ingest, 200),
        ("agent query", lambda: client.post("/api/v1/agent/query", json={"query": query}), 200),
    ]


def measure(make_request, expected):
    """The counts of one request, after one warm-up request (compiled queries, loaded scripts)."""
    first = make_request()
    assert first.status_code == expected, (first.status_code, first.get_data(as_text=True)[:300])
    with counting() as counts:
        answer = make_request()
    assert answer.status_code == expected, (answer.status_code, answer.get_data(as_text=True)[:300])
    return counts["sql"], counts["redis"]
