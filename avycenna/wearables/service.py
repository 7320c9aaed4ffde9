"""Wearable rules, callable without HTTP: ingest (deduped, rolled up, all-or-nothing), read, summarize.

A batch's rows are sorted by the unique index's key; what its span already holds from
the source is read once, and only the rest is written (`executemany` on SQLite, COPY on
PostgreSQL, each under a lock that keeps other writers of that source out) and added to
the hourly rollup, in the same transaction. Summaries read
the rollup, so their cost follows the buckets returned, not the samples stored.
"""
import io
import json
from bisect import bisect_left
from collections import Counter, defaultdict
from itertools import groupby
from operator import itemgetter

from peewee import fn

from avycenna.audit.service import grant_details, record
from avycenna.clock import iso_to_ms, ms_to_iso, utcnow
from avycenna.db import database, is_sqlite, transaction
from avycenna.wearables.models import WearableHourly, WearableSample
from avycenna.wearables.sources import source_id
from avycenna.wearables.types import ASLEEP_CODES, CUMULATIVE, SLEEP_STAGES, TYPES
from avycenna.webhooks.events import emit_ingested

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
CHUNK = 2000  # rollup rows per INSERT statement (11 parameters each stays under every driver's limit)
ROLLUP_COLUMNS = ("patient_id", "type", "hour_ms", "source", "count", "sum", "min", "max", "sum2", "min2",
                  "max2")
MINUTE_MS = 60000.0


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


def identity(row):
    """What makes a sample itself: type, start, end, value, value2 (the unique index, per source)."""
    return row[0], row[1], -1 if row[2] is None else row[2], row[3], -1 if row[4] is None else row[4]


def stored_keys(patient_key, source, rows):
    """The identities of the batch's rows already stored from this source (within its time span)."""
    spans = {}  # type → (first start, last start); a type's rows are together when key-ordered
    for type_name, run in groupby(rows, key=_TYPE):
        times = list(map(_START, run))
        low, high = min(times), max(times)
        if type_name in spans:  # rows not in key order: the type came before
            low, high = min(low, spans[type_name][0]), max(high, spans[type_name][1])
        spans[type_name] = (low, high)
    p = database.param
    sql = (f"SELECT type, start_ms, COALESCE(end_ms, -1), value, COALESCE(value2, -1) "
           f"FROM {_table(WearableSample)} WHERE patient_id = {p} AND type = {p} "
           f"AND start_ms >= {p} AND start_ms <= {p} AND source = {p}")
    found = set()
    for type_name, (low, high) in spans.items():
        params = (patient_key, type_name, low, high, source)
        found.update(database.execute_sql(sql, params).fetchall())
    return found


def key_order(rows):
    """The rows sorted by their identity (the unique index's order for one patient and source).

    Tuples compare as their identities do unless a None (no end, no value2) meets a number
    at the deciding place; then, or when a row carries a sixth item (a workout's details,
    which the identity leaves out and a tuple comparison would not), the identity decides.
    Both sorts are stable, so the first of two equal rows stays first.
    """
    if max(map(len, rows), default=5) == 5:
        try:
            return sorted(rows)
        except TypeError:
            pass
    return sorted(rows, key=identity)


def first_of_each(rows):
    """The rows without later repeats of an identity, in their order (a batch may repeat itself)."""
    # Equal first five items are equal identities (None ≠ -1 is no matter: neither an end nor
    # a diastolic can be -1); rows of five items are compared whole, without copying them.
    items = rows if max(map(len, rows), default=5) == 5 else map(_IDENTITY_ITEMS, rows)
    if len(set(items)) == len(rows):
        return rows
    seen, first = set(), []
    for row in rows:
        key = identity(row)
        if key not in seen:
            seen.add(key)
            first.append(row)
    return first


_IDENTITY_ITEMS = itemgetter(0, 1, 2, 3, 4)
# Samples are inserted with the row's own items first, then the batch's patient, source and the
# time it was stored (epoch ms: what FHIR's incremental export, `_since`, asks about).
ROW_COLUMNS = ("type", "start_ms", "end_ms", "value", "value2", "detail", "patient_id", "source", "received_ms")


def received_ms():
    return iso_to_ms(utcnow())


def _params(patient_key, source, rows):
    tail = (patient_key, source, received_ms())
    if max(map(len, rows), default=5) == 5:
        tail = (None, *tail)
        return [row + tail for row in rows]
    return [row + tail if len(row) == 6 else (*row[:5], None, *tail) for row in rows]


def _lock_stream(patient_key, source):
    """PostgreSQL: hold the patient's source for this transaction (released at its end).

    Samples conflict only within one patient and source (both are in the unique index, and
    in the rollup's key), so under this lock no other transaction can insert a row this one
    reads as absent: what is not stored yet is new, as under SQLite's write lock, and
    COPY can write it without ON CONFLICT. Two ingests of one stream wait for each other;
    other patients and sources go on. (A hash collision only makes two streams wait.)
    """
    database.execute_sql("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (ADVISORY_CLASS, patient_key + "/" + source))


ADVISORY_CLASS = 0x57454152  # "WEAR": the first key of two-key advisory locks taken here


def _copy_field(text):
    """Text in COPY's text format (backslash, tab, newline and carriage return escaped)."""
    if text is None:
        return "\\N"
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_rows(patient_key, source, rows):
    """COPY the rows into wearable_sample (PostgreSQL): one round trip, no per-row SQL."""
    tail = f"\t{patient_key}\t{_copy_field(source)}\t{received_ms()}\n"
    if max(map(len, rows), default=5) == 5 and all(r[2] is None and r[4] is None for r in rows):
        text = "".join([f"{t}\t{s}\t\\N\t{v!r}\t\\N\t\\N{tail}" for t, s, _, v, _ in rows])
    else:
        text = "".join([f"{r[0]}\t{r[1]}\t{_copy_number(r[2])}\t{r[3]!r}\t{_copy_number(r[4])}\t"
                        f"{_copy_field(r[5] if len(r) > 5 else None)}{tail}" for r in rows])
    sql = f"COPY {_table(WearableSample)} ({', '.join(ROW_COLUMNS)}) FROM STDIN"
    with database.cursor() as cursor:
        cursor.copy_expert(sql, io.StringIO(text))


def _copy_number(value):
    return "\\N" if value is None else repr(value)


def insert_new(patient_key, source, rows):
    """Insert rows (in key order, unique by their identity) skipping stored ones; returns the new rows.

    What the batch's span already holds from this source is read in one range query per
    type; the rest, less any repeat within the batch, is new and is written in one go:
    `executemany` on SQLite, whose write transaction holds the database lock, and COPY on
    PostgreSQL under a lock on the patient's source (`_lock_stream`).
    """
    if not is_sqlite():
        _lock_stream(patient_key, source)
    stored = stored_keys(patient_key, source, rows)
    new = first_of_each([r for r in rows if identity(r) not in stored] if stored else rows)
    if not new:
        return new
    if is_sqlite():
        sql = _insert_sql(WearableSample, ROW_COLUMNS, 1, "")
        database.connection().executemany(sql, _params(patient_key, source, new))
    else:
        _copy_rows(patient_key, source, new)
    return new


def hour_shares(type_name, start_ms, end_ms, value):
    """[(hour_ms, amount)] a sample adds to the hourly rollup.

    A point sample, or a measurement like heart rate: its value, in the hour it starts.
    Sleep and workouts: the minutes spent in each hour they cover (asleep stages only:
    `awake` and `in_bed` are not sleep), so no hour holds more than 60 minutes.
    Steps, distance, energy over an interval: shared out in proportion to the time in each hour.
    """
    hour = start_ms - start_ms % HOUR_MS
    timed = type_name in ("sleep", "workout")
    if type_name == "sleep" and value not in ASLEEP_CODES:
        return []
    if type_name not in CUMULATIVE or end_ms is None or end_ms - start_ms <= 0:
        return [] if timed else [(hour, value)]
    span, shares = end_ms - start_ms, []
    while hour < end_ms:
        overlap = min(end_ms, hour + HOUR_MS) - max(start_ms, hour)
        if overlap > 0:
            shares.append((hour, overlap / MINUTE_MS if timed else value * overlap / span))
        hour += HOUR_MS
    return shares


def hourly_buckets(rows):
    """{(type, hour_ms): [count, sum, min, max, sum2, min2, max2]} of new rows.

    A run of plain measurements of one type (no end, no second value), in time order as
    ingest keeps them, is cut into hours by bisecting its start times: the per-hour sums
    and extremes are builtins over slices, not a Python step per sample. Anything else
    takes the general loop. Sums add the same values in the same order either way.
    """
    buckets, rest = {}, []
    runs = [list(run) for _, run in groupby(rows, key=_TYPE)]
    once = len({run[0][0] for run in runs}) == len(runs)  # else a type's hours may span runs
    for run in runs:
        if not once or run[0][0] in CUMULATIVE or not _plain_run(run):
            rest += run
            continue
        starts = list(map(_START, run))
        values = list(map(_VALUE, run))
        i, end = 0, len(run)
        while i < end:
            hour = starts[i] - starts[i] % HOUR_MS
            j = bisect_left(starts, hour + HOUR_MS, i)
            vs = values[i:j]
            buckets[run[0][0], hour] = [j - i, sum(vs), min(vs), max(vs), None, None, None]
            i = j
    buckets.update(_general_buckets(rest))
    return buckets


_TYPE, _START, _END, _VALUE, _VALUE2 = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3), itemgetter(4)


def _plain_run(run):
    """Measurements with no end and no second value, their starts in order."""
    starts = list(map(_START, run))
    return (list(map(_END, run)).count(None) == len(run) and list(map(_VALUE2, run)).count(None) == len(run)
            and starts == sorted(starts))


def _general_buckets(rows):
    values, seconds = defaultdict(list), defaultdict(list)
    for row in rows:
        type_name, start_ms, end_ms, value, value2 = row[:5]
        if type_name in CUMULATIVE:
            for hour_ms, amount in hour_shares(type_name, start_ms, end_ms, value):
                values[type_name, hour_ms].append(amount)
            continue
        key = (type_name, start_ms - start_ms % HOUR_MS)
        values[key].append(value)
        if value2 is not None:
            seconds[key].append(value2)
    buckets = {}
    for key, vs in values.items():
        v2 = seconds.get(key)
        buckets[key] = [len(vs), sum(vs), min(vs), max(vs),
                        *((sum(v2), min(v2), max(v2)) if v2 else (None, None, None))]
    return buckets


def add_to_rollup(patient_key, rows, source=""):
    """Fold newly inserted rows into the hourly rollup (one upsert per touched hour and source)."""
    buckets = hourly_buckets(rows)
    if not buckets:
        return
    least, greatest = ("MIN", "MAX") if is_sqlite() else ("LEAST", "GREATEST")
    t = _table(WearableHourly)
    tail = (f"ON CONFLICT (patient_id, type, hour_ms, source) DO UPDATE SET "
            f"count = {t}.count + excluded.count, sum = {t}.sum + excluded.sum, "
            f"min = {least}({t}.min, excluded.min), max = {greatest}({t}.max, excluded.max), "
            f"sum2 = {t}.sum2 + excluded.sum2, min2 = {least}({t}.min2, excluded.min2), "
            f"max2 = {greatest}({t}.max2, excluded.max2)")
    items = sorted(buckets.items())  # hours in key order, like the samples (no deadlocks)
    for i in range(0, len(items), CHUNK):
        chunk = items[i:i + CHUNK]
        params = []
        for (type_name, hour_ms), b in chunk:
            params += (patient_key, type_name, hour_ms, source, *b)
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


@transaction
def ingest(patient, source, rows, user_id=None):
    """Store a validated batch all-or-nothing; returns inserted, duplicates and checkpoints.

    `user_id` names the account for the audit when no request is running (an import job).
    """
    key = _patient_key(patient)
    # Sorted by the unique key: rows reach the index in its order, and should two writers of
    # overlapping rows ever run at once they take their row locks in one order (no deadlock).
    rows = key_order(rows)
    new = insert_new(key, source, rows)
    add_to_rollup(key, new, source)
    checkpoint = checkpoints(key, source, set(map(itemgetter(0), rows)))
    sent_by = source_id(patient, source)  # the log and events name the source, never its device's words
    record("wearables.ingest", patient_id=patient.id, target_type="wearable_source", target_id=sent_by,
           received=len(rows), inserted=len(new), user_id=user_id)
    emit_ingested(patient, sent_by, new, duplicates=len(rows) - len(new))
    return {"inserted": len(new), "duplicates": len(rows) - len(new), "checkpoint": checkpoint,
            "inserted_by_type": Counter(map(itemgetter(0), new))}


def present_sample(row):
    """A stored sample in its public form (value shaped by type)."""
    spec = TYPES[row.type]
    if row.type == "blood_pressure":
        value = {"systolic": row.value, "diastolic": row.value2}
    elif row.type == "sleep":
        value = SLEEP_STAGES[int(row.value)]
    elif row.type == "workout":
        value = json.loads(row.detail)
    else:
        value = row.value
    return {"type": row.type, "source": row.source, "start": ms_to_iso(row.start_ms),
            "end": ms_to_iso(row.end_ms),
            "value": value, "unit": spec.unit}


def samples_query(patient, type_name, start_ms, end_ms):
    return WearableSample.select().where(
        (WearableSample.patient == patient) & (WearableSample.type == type_name)
        & (WearableSample.start_ms >= start_ms) & (WearableSample.start_ms < end_ms))


MINUTES = ("sleep", "workout")  # amounts in minutes: an hour holds at most 60 of them


def summary(patient, type_name, bucket, start_ms, end_ms):
    """count/min/max/mean/sum per hour or UTC day, from the hourly rollup.

    Amounts (steps, distance, energy, sleep, workouts) take one source per hour, by the
    holder's priority (see sources.py), so two devices never count the same hour twice;
    minutes of sleep or workout in an hour are capped at 60. Measurements (heart rate …)
    pool every source.
    """
    size = HOUR_MS if bucket == "hour" else DAY_MS
    first_hour = start_ms - start_ms % size
    if type_name in CUMULATIVE:
        hours = _one_source_per_hour(patient, type_name, first_hour, end_ms)
    else:
        hours = _all_sources_per_hour(patient, type_name, first_hour, end_ms)
    slots = {}
    for hour_ms, n, total, low, high, total2, low2, high2 in hours:
        slot = slots.setdefault(hour_ms - hour_ms % size, [0, 0.0, low, high, None, low2, high2])
        slot[0] += n
        slot[1] += total
        slot[2], slot[3] = min(slot[2], low), max(slot[3], high)
        if total2 is not None:
            slot[4] = (slot[4] or 0.0) + total2
            slot[5], slot[6] = min(slot[5], low2), max(slot[6], high2)
    data = []
    for bucket_ms in sorted(slots):
        n, total, low, high, total2, low2, high2 = slots[bucket_ms]
        item = {"start": ms_to_iso(bucket_ms), "count": n, "min": low, "max": high, "mean": total / n,
                "sum": total, "diastolic": None}
        if type_name == "blood_pressure":
            item["diastolic"] = {"min": low2, "max": high2, "mean": total2 / n}
        data.append(item)
    return data


def _rollup_rows(patient, type_name, first_hour, end_ms, *columns):
    h = WearableHourly
    return (h.select(*columns).where((h.patient == patient) & (h.type == type_name)
                                     & (h.hour_ms >= first_hour) & (h.hour_ms < end_ms)))


def _all_sources_per_hour(patient, type_name, first_hour, end_ms):
    h = WearableHourly
    return (_rollup_rows(patient, type_name, first_hour, end_ms, h.hour_ms, fn.SUM(h.count), fn.SUM(h.sum),
                         fn.MIN(h.min), fn.MAX(h.max), fn.SUM(h.sum2), fn.MIN(h.min2), fn.MAX(h.max2))
            .group_by(h.hour_ms).order_by(h.hour_ms).tuples())


def _one_source_per_hour(patient, type_name, first_hour, end_ms):
    """Each hour's row from its highest-priority source."""
    from avycenna.wearables.sources import chosen_order, rank

    h = WearableHourly
    key = rank(chosen_order(patient))
    best = {}
    for hour_ms, source, n, total, low, high in _rollup_rows(
            patient, type_name, first_hour, end_ms, h.hour_ms, h.source, h.count, h.sum, h.min, h.max).tuples():
        if hour_ms not in best or key(source) < key(best[hour_ms][0]):
            best[hour_ms] = (source, n, total, low, high)
    cap = 60.0 if type_name in MINUTES else None
    return [(hour_ms, n, min(total, cap) if cap else total, low, min(high, cap) if cap else high,
             None, None, None)
            for hour_ms, (source, n, total, low, high) in sorted(best.items())]


def read_summaries(patient, type_names, bucket, start_ms, end_ms):
    """Several types' summaries read at once (a chart page): {type: buckets}, one audit event."""
    data = {type_name: summary(patient, type_name, bucket, start_ms, end_ms) for type_name in type_names}
    record("wearables.summary.read", patient_id=patient.id, target_type="wearables", types=list(type_names),
           bucket=bucket, **grant_details())
    return data


def read_summary(patient, type_name, bucket, start_ms, end_ms):
    """The summary as a caller reads it: audited, naming the grant the access went through."""
    data = summary(patient, type_name, bucket, start_ms, end_ms)
    record("wearables.summary.read", patient_id=patient.id, target_type="wearables", type=type_name,
           bucket=bucket, **grant_details())
    return data
