"""FHIR reads, callable without HTTP: which rows, in which order, as which resources; audited.

Everything is read with keyset queries (`WHERE (key) > (last key) ORDER BY key LIMIT n`), so a
page costs the same at any depth and a bulk export iterates without holding its data. Results
that span several queries (sample types, the sections of `$everything`) are chained: the
cursor is (which part, the key inside it), and each part is read one type at a time so its
query follows the (patient, type, start) index instead of sorting every later row.
"""
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from peewee import Case, fn

from avycenna.access import require_patient_access
from avycenna.audit.service import grant_details, record
from avycenna.encounters.models import Encounter, EncounterQuery, Message
from avycenna.fhir import resources
from avycenna.errors import DENIED, fail
from avycenna.fhir.mapping import OBSERVATIONS, ROLLUP_TYPES
from avycenna.fhir.search import range_conditions, start_before
from avycenna.pagination import keyset_page
from avycenna.wearables.models import WearableHourly, WearableSample
from avycenna.clock import iso_to_ms
from avycenna.wearables.service import DAY_MS, HOUR_MS, summary

BATCH = 1000  # rows per keyset query when iterating a whole section
YEAR_ONE_MS = 62_135_596_800_000  # 0001-01-01 to 1970-01-01, in ms: a whole number of days


def parse_iso(text):
    """`2026-11-20T08:00:00Z` → a naive UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


# Observations ---------------------------------------------------------------------------------

def chained_page(parts, limit, cursor=None):
    """Up to `limit` items from `parts` in order, each `fetch(limit, after) → (items, next key)`.

    `cursor` is [part index, key]; returns (items, next cursor or None).
    """
    index, after = cursor or (0, None)
    found = []
    while index < len(parts):
        batch, next_key = parts[index](limit - len(found), after)
        found += batch
        if next_key is not None:
            return found, [index, next_key]
        index, after = index + 1, None
        if len(found) >= limit:
            return found, ([index, None] if index < len(parts) else None)
    return found, None


def nothing(limit, after):
    return [], None


def sample_end():
    """A sample's range ends here: its end, or a point's one millisecond."""
    s = WearableSample
    return Case(None, [(s.end_ms > s.start_ms, s.end_ms)], s.start_ms + 1)


def observation_rows(patient, type_name, start_ms, end_ms, stages=None, dates=None, since=None):
    """Stored samples of a type that start in [start_ms, end_ms) — or, given search `dates`,
    whose interval matches them by FHIR's range rule (overlap; `search.range_conditions`) —
    (sleep: only `stages`, when given; `since`: only those stored after that epoch ms)."""
    from avycenna.wearables.types import STAGE_CODE

    s = WearableSample
    query = (s.select(s.id, s.type, s.source, s.start_ms, s.end_ms, s.value, s.value2, s.detail)
             .where((s.patient == patient) & (s.type == type_name)))
    if dates:
        for condition in range_conditions(dates, s.start_ms, sample_end()):
            query = query.where(condition)
        query = query.where(s.start_ms < start_before(dates))  # the index's range
    else:
        query = query.where((s.start_ms >= start_ms) & (s.start_ms < end_ms))
    if since is not None:
        query = query.where(s.received_ms > since)
    if type_name == "sleep" and stages is not None:
        query = query.where(s.value.in_([STAGE_CODE[stage] for stage in stages]))
    return query.namedtuples()  # plain rows: building a model instance per sample costs more than the FHIR


SAMPLE_KEY = (WearableSample.start_ms, WearableSample.id)


def observations_page(patient, types, start_ms, end_ms, limit, cursor=None, stages=None, dates=None, since=None):
    """([Observation], next cursor or None) of raw samples: type by type (the mapping's order),
    oldest first within a type."""
    def part(type_name):
        def fetch(n, after):
            rows, next_key = keyset_page(observation_rows(patient, type_name, start_ms, end_ms, stages, dates, since),
                                         SAMPLE_KEY, n, after)
            return [resources.observation(row, patient.id) for row in rows], next_key
        return fetch if type_name in types else nothing
    return chained_page([part(type_name) for type_name in OBSERVATIONS], limit, cursor)


def next_hour(patient, type_name, from_ms):
    """The first rolled-up hour of this type at or after `from_ms`, or None."""
    h = WearableHourly
    return (h.select(fn.MIN(h.hour_ms)).where((h.patient == patient) & (h.type == type_name)
                                               & (h.hour_ms >= from_ms)).scalar())


def rollups_page(patient, types, bucket, start_ms, end_ms, limit, cursor=None):
    """([Observation], next cursor or None) of hourly/daily rollups from the summary service:
    type by type, oldest period first. A page asks the service for a window of about `limit`
    periods at a time, so its cost follows the page, not the whole range."""
    size = HOUR_MS if bucket == "hour" else DAY_MS

    def part(type_name):
        def fetch(n, after):
            items, position = [], after if after is not None else start_ms
            while len(items) <= n:
                position = next_hour(patient, type_name, position - position % size)
                if position is None or position >= end_ms:
                    break  # no data left: empty stretches are skipped, never walked
                position -= position % size
                window_end = min(end_ms, position + (n + 1) * size)
                items += summary(patient, type_name, bucket, position, window_end)
                position = window_end
            starts = [iso_to_ms(parse_iso(item["start"])) for item in items]
            found = [resources.rollup_observation(type_name, patient.id, bucket, item, start, size)
                     for item, start in zip(items[:n], starts)]
            return found, (starts[n] if len(items) > n else None)
        return fetch if type_name in types else nothing
    return chained_page([part(type_name) for type_name in OBSERVATIONS], limit, cursor)


def count_observations(patient, query):
    """How many Observations the search would return (`_count=0`): samples, or rolled-up periods."""
    types = query["types"]
    if not types:
        return 0
    if query["rollup"]:
        size = HOUR_MS if query["rollup"] == "hour" else DAY_MS
        h = WearableHourly
        total = 0
        for type_name in types:  # a period holds one Observation per type
            # Integer division of a positive number (shifted by whole days from year 1 to 1970,
            # so no sample is negative) is the period on both databases (`%` is LIKE in peewee).
            total += (h.select(fn.COUNT(fn.DISTINCT((h.hour_ms + YEAR_ONE_MS) / size)))
                      .where((h.patient == patient) & (h.type == type_name)
                             & (h.hour_ms >= query["start_ms"] - query["start_ms"] % size)
                             & (h.hour_ms < query["end_ms"])).scalar() or 0)
        return total
    return sum(observation_rows(patient, type_name, query["start_ms"], query["end_ms"], query.get("stages"),
                                query.get("dates")).count() for type_name in types)


def search_observations(patient, query, after):
    """One page of an Observation search (raw or rolled up), audited. `_count=0`: (total, None)."""
    if query["count"] == 0:
        total = count_observations(patient, query)
        record("fhir.observation.search", patient_id=patient.id, target_type="wearables", types=query["types"],
               rollup=query["rollup"], returned=0, total=total, **grant_details())
        return total, None
    if query["rollup"]:
        found, next_key = rollups_page(patient, query["types"], query["rollup"], query["start_ms"],
                                       query["end_ms"], query["count"], after)
    else:
        found, next_key = observations_page(patient, query["types"], query["start_ms"], query["end_ms"],
                                            query["count"], after, query.get("stages"), query.get("dates"))
    record("fhir.observation.search", patient_id=patient.id, target_type="wearables", types=query["types"],
           rollup=query["rollup"], returned=len(found), **grant_details())
    return found, next_key


# Single reads: every id a search or another resource emits can be read back ----------------

SAMPLE_ID = re.compile(r"^ws-([0-9]{1,18})$")
ROLLUP_ID = re.compile(r"^([a-z0-9]+)-([hd])([0-9]{1,16})-([0-9a-f]{32})$")
BUCKETS = {"h": ("hour", HOUR_MS), "d": ("day", DAY_MS)}


def not_found():
    fail(404, DENIED)


def _sample_observation(sample_id):
    s = WearableSample
    row = (s.select(s.id, s.type, s.source, s.start_ms, s.end_ms, s.value, s.value2, s.detail, s.patient)
           .where(s.id == int(sample_id)).namedtuples().first())
    if row is None or row.type not in OBSERVATIONS:
        not_found()
    patient = require_patient_access(row.patient, "wearables")
    return patient, resources.observation(row, patient.id)


def _rollup_observation(short, bucket_letter, start, patient_hex):
    type_name = ROLLUP_TYPES.get(short)
    bucket, size = BUCKETS[bucket_letter]
    start_ms = int(start)
    if type_name is None or start_ms % size:
        not_found()
    patient = require_patient_access(str(uuid.UUID(patient_hex)), "wearables")
    items = [item for item in summary(patient, type_name, bucket, start_ms, start_ms + size)
             if iso_to_ms(parse_iso(item["start"])) == start_ms]
    if not items:
        not_found()
    return patient, resources.rollup_observation(type_name, patient.id, bucket, items[0], start_ms, size)


def read_observation(observation_id):
    """One Observation by the id a search emitted (a raw sample `ws-…` or an hourly/daily
    rollup), under the `wearables` scope of its patient; audited. Anything else is a 404."""
    sample, rollup = SAMPLE_ID.match(observation_id), ROLLUP_ID.match(observation_id)
    if sample:
        patient, resource = _sample_observation(sample.group(1))
    elif rollup:
        patient, resource = _rollup_observation(*rollup.groups())
    else:
        not_found()
    record("fhir.observation.read", patient_id=patient.id, target_type="wearables", target_id=observation_id,
           **grant_details())
    return resource


def our_id(fhir_id, prefix):
    """`enc-7jRtHvBk` → `enc_7jRtHvBk` (our ids: a prefix, `_`, letters and digits); else 404."""
    if not re.match(rf"^{prefix}-[A-Za-z0-9]{{1,27}}$", fhir_id):
        not_found()
    return prefix + "_" + fhir_id[len(prefix) + 1:]


def read_encounter(encounter_id):
    """An Encounter by its FHIR id, under the `encounters` scope of its patient; audited."""
    row = Encounter.get_or_none(Encounter.id == our_id(encounter_id, "enc"))
    if row is None or row.patient_id is None:
        not_found()
    patient = require_patient_access(row.patient_id, "encounters")
    record("fhir.encounter.read", patient_id=patient.id, target_type="encounter", target_id=row.id,
           **grant_details())
    return resources.encounter(row, _latest_query_text(row))


def read_communication(communication_id):
    """A Communication (a message of an encounter), under the `encounters` scope; audited."""
    row = Message.get_or_none(Message.id == our_id(communication_id, "msg"))
    encounter = Encounter.get_or_none(Encounter.id == row.encounter_id) if row is not None else None
    if encounter is None or encounter.patient_id is None:
        not_found()
    patient = require_patient_access(encounter.patient_id, "encounters")
    record("fhir.communication.read", patient_id=patient.id, target_type="encounter", target_id=encounter.id,
           message_id=row.id, **grant_details())
    return resources.communication(row, patient.id)


# Sections of a patient's record ($everything and bulk export) ---------------------------------

@dataclass(frozen=True)
class Section:
    resource_type: str
    scope: str
    # fetch(patient, window, limit, after, since=None) → ([resource], next key or None); `since`
    # (a naive UTC datetime): only what was stored or changed after it (bulk export's `_since`)
    fetch: Callable


def _patient_section(patient, window, limit, after, since=None):
    if after or (since is not None and patient.updated_at <= since):
        return [], None
    return [resources.patient(patient)], None


def _observation_section(patient, window, limit, after, since=None):
    since_ms = iso_to_ms(since) if since is not None else None
    return observations_page(patient, list(OBSERVATIONS), window[0], window[1], limit, after, since=since_ms)


ENCOUNTER_KEY = (Encounter.created_at, Encounter.id)
MESSAGE_KEY = (Message.created_at, Message.id)


def _latest_query_text(encounter):
    row = (EncounterQuery.select(EncounterQuery.text).where(EncounterQuery.encounter == encounter.id)
           .order_by(EncounterQuery.created_at.desc(), EncounterQuery.id.desc()).first())
    return row.text if row else None


def _encounter_section(patient, window, limit, after, since=None):
    query = Encounter.select().where(Encounter.patient == patient)
    if since is not None:
        query = query.where(Encounter.updated_at > since)
    rows, next_key = keyset_page(query, ENCOUNTER_KEY, limit, after)
    return [resources.encounter(row, _latest_query_text(row)) for row in rows], next_key


def _communication_section(patient, window, limit, after, since=None):
    query = Message.select().join(Encounter).where(Encounter.patient == patient)
    if since is not None:
        query = query.where(Message.created_at > since)  # messages are never changed
    rows, next_key = keyset_page(query, MESSAGE_KEY, limit, after)
    return [resources.communication(row, patient.id) for row in rows], next_key


SECTIONS = (Section("Patient", "profile", _patient_section),
            Section("Observation", "wearables", _observation_section),
            Section("Encounter", "encounters", _encounter_section),
            Section("Communication", "encounters", _communication_section))


def everything_page(patient, scopes, window, limit, cursor=None):
    """Up to `limit` resources of every section the caller's scopes allow, in section order;
    returns (resources, next cursor or None)."""
    def part(section):
        def fetch(n, after):
            return section.fetch(patient, window, n, after)
        return fetch if section.scope in scopes else nothing
    return chained_page([part(section) for section in SECTIONS], limit, cursor)


def read_everything(patient, scopes, window, limit, cursor=None):
    found, next_cursor = everything_page(patient, scopes, window, limit, cursor)
    counts = {}
    for resource in found:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    record("fhir.everything", patient_id=patient.id, target_type="patient", target_id=patient.id,
           scopes=sorted(scopes), returned=counts, **grant_details())
    return found, next_cursor


def iterate_section(section, patient, window=(0, 2 ** 62), since=None):
    """Every resource of one section (changed after `since`, when given), fetched BATCH rows at
    a time (for bulk export)."""
    after = None
    while True:
        batch, after = section.fetch(patient, window, BATCH, after, since)
        yield from batch
        if after is None:
            return
