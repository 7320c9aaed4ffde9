"""Wearable rules, callable without HTTP: ingest (deduped, rolled up, all-or-nothing), read, summarize.

Samples go in with plain SQL, `INSERT … ON CONFLICT DO NOTHING` against the unique
index (the same on SQLite and PostgreSQL); only rows that were really new are
added to the hourly rollup, in the same transaction. Summaries read
the rollup, so their cost follows the buckets returned, not the samples stored.
"""
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from peewee import fn

from avycenna.audit.service import record
from avycenna.clock import isoformat
from avycenna.db import database, is_sqlite, write_transaction
from avycenna.wearables.models import WearableHourly, WearableSample
from avycenna.wearables.types import SLEEP_STAGES, TYPES

EPOCH = datetime(1970, 1, 1)
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
CHUNK = 2000  # rows per INSERT statement (7 parameters each stays under every driver's limit)
SAMPLE_COLUMNS = ("patient_id", "type", "source", "start_ms", "end_ms", "value", "value2")
ROLLUP_COLUMNS = ("patient_id", "type", "hour_ms", "count", "sum", "min", "max", "sum2", "min2", "max2")


def _table(model):
    return '"%s"' % model._meta.table_name


def _insert_sql(model, columns, rows, tail):
    param = database.param
    group = "(" + ", ".join([param] * len(columns)) + ")"
    return (f"INSERT INTO {_table(model)} ({', '.join(columns)}) VALUES "
            + ", ".join([group] * rows) + " " + tail)


def _patient_key(patient):
    """The patient id as the database stores it (hex text on SQLite, uuid on PostgreSQL)."""
    return patient.id.hex if is_sqlite() else str(patient.id)


def stored_starts(patient_key, source, rows):
    """{(type, start_ms)} already stored from this source within the batch's time span."""
    starts = defaultdict(list)
    for row in rows:
        starts[row[0]].append(row[1])
    p = database.param
    sql = (f"SELECT type, start_ms FROM {_table(WearableSample)} WHERE patient_id = {p} AND type = {p} "
           f"AND start_ms >= {p} AND start_ms <= {p} AND source = {p}")
    found = set()
    for type_name, times in starts.items():
        params = (patient_key, type_name, min(times), max(times), source)
        found.update(database.execute_sql(sql, params).fetchall())
    return found


def insert_new(patient_key, source, rows):
    """Insert rows (unique by type and start), skipping stored ones; returns the new rows.

    SQLite: the write transaction holds the database lock, so what is not stored
    yet is new, and `executemany` inserts it at full speed. PostgreSQL: concurrent
    writers are possible, so the database says which rows it inserted (RETURNING).
    """
    if is_sqlite():
        stored = stored_starts(patient_key, source, rows)
        new = [r for r in rows if (r[0], r[1]) not in stored] if stored else rows
        sql = _insert_sql(WearableSample, SAMPLE_COLUMNS, 1, "ON CONFLICT DO NOTHING")
        cursor = database.connection().executemany(
            sql, [(patient_key, t, source, start, end, v, v2) for t, start, end, v, v2 in new])
        if cursor.rowcount != len(new):  # the batch repeats itself: the first of each was kept
            new = list({(r[0], r[1]): r for r in reversed(new)}.values())
        return new
    inserted = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i:i + CHUNK]
        params = []
        for type_name, start_ms, end_ms, value, value2 in chunk:
            params += (patient_key, type_name, source, start_ms, end_ms, value, value2)
        sql = _insert_sql(WearableSample, SAMPLE_COLUMNS, len(chunk),
                          "ON CONFLICT DO NOTHING RETURNING type, start_ms, end_ms, value, value2")
        inserted += database.execute_sql(sql, params).fetchall()
    return inserted


def rollup_measure(type_name, start_ms, end_ms, value):
    """The number the hourly rollup aggregates: the value, or minutes for a sleep interval."""
    if type_name == "sleep":
        return (end_ms - start_ms) / 60000.0
    return value


def hourly_buckets(rows):
    """{(type, hour_ms): [count, sum, min, max, sum2, min2, max2]} of new rows."""
    values, seconds = defaultdict(list), defaultdict(list)
    for type_name, start_ms, end_ms, value, value2 in rows:
        key = (type_name, start_ms - start_ms % HOUR_MS)
        values[key].append(rollup_measure(type_name, start_ms, end_ms, value) if type_name == "sleep" else value)
        if value2 is not None:
            seconds[key].append(value2)
    buckets = {}
    for key, vs in values.items():
        v2 = seconds.get(key)
        buckets[key] = [len(vs), sum(vs), min(vs), max(vs),
                        *((sum(v2), min(v2), max(v2)) if v2 else (None, None, None))]
    return buckets


def add_to_rollup(patient_key, rows):
    """Fold newly inserted rows into the hourly rollup (one upsert per touched hour)."""
    buckets = hourly_buckets(rows)
    if not buckets:
        return
    least, greatest = ("MIN", "MAX") if is_sqlite() else ("LEAST", "GREATEST")
    t = _table(WearableHourly)
    tail = (f"ON CONFLICT (patient_id, type, hour_ms) DO UPDATE SET "
            f"count = {t}.count + excluded.count, sum = {t}.sum + excluded.sum, "
            f"min = {least}({t}.min, excluded.min), max = {greatest}({t}.max, excluded.max), "
            f"sum2 = {t}.sum2 + excluded.sum2, min2 = {least}({t}.min2, excluded.min2), "
            f"max2 = {greatest}({t}.max2, excluded.max2)")
    items = list(buckets.items())
    for i in range(0, len(items), CHUNK):
        chunk = items[i:i + CHUNK]
        params = []
        for (type_name, hour_ms), b in chunk:
            params += (patient_key, type_name, hour_ms, *b)
        database.execute_sql(_insert_sql(WearableHourly, ROLLUP_COLUMNS, len(chunk), tail), params)


def checkpoints(patient_key, source, types):
    """For each type, the latest start stored from this source."""
    sql = (f"SELECT start_ms FROM {_table(WearableSample)} WHERE patient_id = {database.param} "
           f"AND type = {database.param} AND source = {database.param} ORDER BY start_ms DESC LIMIT 1")
    result = {}
    for type_name in sorted(types):
        row = database.execute_sql(sql, (patient_key, type_name, source)).fetchone()
        if row:
            result[type_name] = ms_to_iso(row[0])
    return result


def ingest(patient, source, rows):
    """Store a validated batch all-or-nothing; returns inserted, duplicates and checkpoints."""
    key = _patient_key(patient)
    with write_transaction():
        new = insert_new(key, source, rows)
        add_to_rollup(key, new)
        checkpoint = checkpoints(key, source, {r[0] for r in rows})
        record("wearables.ingest", patient_id=patient.id, target_type="wearables", source=source,
               received=len(rows), inserted=len(new))
    return {"inserted": len(new), "duplicates": len(rows) - len(new), "checkpoint": checkpoint}


def ms_to_iso(ms):
    """Epoch milliseconds → `2026-11-20T08:00:00Z` (milliseconds shown when present)."""
    if ms is None:
        return None
    return isoformat(EPOCH + timedelta(milliseconds=ms))


def iso_to_ms(value):
    """A (naive UTC) datetime → epoch milliseconds."""
    return int(value.replace(tzinfo=timezone.utc).timestamp() * 1000)


def present_sample(row):
    """A stored sample in its public form (value shaped by type)."""
    spec = TYPES[row.type]
    if row.type == "blood_pressure":
        value = {"systolic": row.value, "diastolic": row.value2}
    elif row.type == "sleep":
        value = SLEEP_STAGES[int(row.value)]
    else:
        value = row.value
    return {"type": row.type, "source": row.source, "start": ms_to_iso(row.start_ms),
            "end": ms_to_iso(row.end_ms),
            "value": value, "unit": spec.unit}


def samples_query(patient, type_name, start_ms, end_ms):
    return WearableSample.select().where(
        (WearableSample.patient == patient) & (WearableSample.type == type_name)
        & (WearableSample.start_ms >= start_ms) & (WearableSample.start_ms < end_ms))


def summary(patient, type_name, bucket, start_ms, end_ms):
    """count/min/max/mean per hour or UTC day, from the hourly rollup."""
    h = WearableHourly
    size = HOUR_MS if bucket == "hour" else DAY_MS
    slot = (h.hour_ms / size * size) if bucket == "day" else h.hour_ms
    query = (h.select(slot.alias("bucket_ms"), fn.SUM(h.count).alias("n"), fn.SUM(h.sum).alias("total"),
                      fn.MIN(h.min).alias("low"), fn.MAX(h.max).alias("high"),
                      fn.SUM(h.sum2).alias("total2"), fn.MIN(h.min2).alias("low2"),
                      fn.MAX(h.max2).alias("high2"))
             .where((h.patient == patient) & (h.type == type_name)
                    & (h.hour_ms >= start_ms - start_ms % size) & (h.hour_ms < end_ms))
             .group_by(slot).order_by(slot).tuples())
    data = []
    for bucket_ms, n, total, low, high, total2, low2, high2 in query:
        item = {"start": ms_to_iso(int(bucket_ms)), "count": int(n), "min": low, "max": high, "mean": total / n,
                "diastolic": None}
        if type_name == "blood_pressure":
            item["diastolic"] = {"min": low2, "max": high2, "mean": total2 / n}
        data.append(item)
    return data


def read_summaries(patient, type_names, bucket, start_ms, end_ms):
    """Several types' summaries read at once (a chart page): {type: buckets}, one audit event."""
    from avycenna.grants.access import grant_details

    data = {type_name: summary(patient, type_name, bucket, start_ms, end_ms) for type_name in type_names}
    record("wearables.summary.read", patient_id=patient.id, target_type="wearables", types=list(type_names),
           bucket=bucket, **grant_details())
    return data


def read_summary(patient, type_name, bucket, start_ms, end_ms):
    """The summary as a caller reads it: audited, naming the grant the access went through."""
    from avycenna.grants.access import grant_details

    data = summary(patient, type_name, bucket, start_ms, end_ms)
    record("wearables.summary.read", patient_id=patient.id, target_type="wearables", type=type_name,
           bucket=bucket, **grant_details())
    return data
