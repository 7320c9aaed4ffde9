"""FHIR reads, callable without HTTP: which rows, in which order, as which resources; audited.

Everything is read with keyset queries (`WHERE (key) > (last key) ORDER BY key LIMIT n`), so a
page costs the same at any depth and a bulk export iterates without holding its data.
"""
from dataclasses import dataclass
from typing import Callable

from avycenna.audit.service import record
from avycenna.encounters.models import Encounter, EncounterQuery, Message
from avycenna.fhir import resources
from avycenna.fhir.mapping import OBSERVATIONS
from avycenna.grants.access import grant_details
from avycenna.pagination import row_key, seek
from avycenna.wearables.models import WearableSample
from avycenna.wearables.service import DAY_MS, HOUR_MS, summary_item, summary_query

BATCH = 1000  # rows per keyset query when iterating a whole section


# Observations ---------------------------------------------------------------------------------

def observation_rows(patient, types, start_ms, end_ms):
    s = WearableSample
    return s.select().where((s.patient == patient) & s.type.in_(list(types))
                            & (s.start_ms >= start_ms) & (s.start_ms < end_ms))


SAMPLE_KEY = (WearableSample.start_ms, WearableSample.id)


def observations_page(patient, types, start_ms, end_ms, limit, after=None):
    """([Observation], next key or None) of raw samples, oldest first."""
    if not types:
        return [], None
    rows = list(seek(observation_rows(patient, types, start_ms, end_ms), SAMPLE_KEY, after).limit(limit + 1))
    next_key = row_key(rows[limit - 1], SAMPLE_KEY) if len(rows) > limit else None
    return [resources.observation(row) for row in rows[:limit]], next_key


def rollups_page(patient, types, bucket, start_ms, end_ms, limit, after=None):
    """([Observation], next key or None) of hourly/daily rollups, ordered by (period, type)."""
    if not types:
        return [], None
    size = HOUR_MS if bucket == "hour" else DAY_MS
    rows = list(summary_query(patient, types, bucket, start_ms, end_ms, after=after).limit(limit + 1))
    next_key = list(rows[limit - 1][:2]) if len(rows) > limit else None
    return [resources.rollup_observation(row[1], patient.id, bucket, summary_item(row[1], row), size)
            for row in rows[:limit]], next_key


def search_observations(patient, query, after):
    """One page of an Observation search (raw or rolled up), audited."""
    if query["rollup"]:
        found, next_key = rollups_page(patient, query["types"], query["rollup"], query["start_ms"],
                                       query["end_ms"], query["count"], after)
    else:
        found, next_key = observations_page(patient, query["types"], query["start_ms"], query["end_ms"],
                                            query["count"], after)
    record("fhir.observation.search", patient_id=patient.id, target_type="wearables", types=query["types"],
           rollup=query["rollup"], returned=len(found), **grant_details())
    return found, next_key


def read_patient(patient):
    record("fhir.patient.read", patient_id=patient.id, target_type="patient", target_id=patient.id,
           **grant_details())
    return resources.patient(patient)


# Sections of a patient's record ($everything and bulk export) ---------------------------------

@dataclass(frozen=True)
class Section:
    resource_type: str
    scope: str
    fetch: Callable  # fetch(patient, window, limit, after) → ([resource], next key or None)


def _patient_section(patient, window, limit, after):
    return ([] if after else [resources.patient(patient)]), None


def _observation_section(patient, window, limit, after):
    return observations_page(patient, list(OBSERVATIONS), window[0], window[1], limit, after)


ENCOUNTER_KEY = (Encounter.created_at, Encounter.id)
MESSAGE_KEY = (Message.created_at, Message.id)


def _latest_query_text(encounter):
    row = (EncounterQuery.select(EncounterQuery.text).where(EncounterQuery.encounter == encounter.id)
           .order_by(EncounterQuery.created_at.desc(), EncounterQuery.id.desc()).first())
    return row.text if row else None


def _encounter_section(patient, window, limit, after):
    rows = list(seek(Encounter.select().where(Encounter.patient == patient), ENCOUNTER_KEY, after)
                .limit(limit + 1))
    next_key = row_key(rows[limit - 1], ENCOUNTER_KEY) if len(rows) > limit else None
    return [resources.encounter(row, _latest_query_text(row)) for row in rows[:limit]], next_key


def _communication_section(patient, window, limit, after):
    query = Message.select().join(Encounter).where(Encounter.patient == patient)
    rows = list(seek(query, MESSAGE_KEY, after).limit(limit + 1))
    next_key = row_key(rows[limit - 1], MESSAGE_KEY) if len(rows) > limit else None
    return [resources.communication(row, patient.id) for row in rows[:limit]], next_key


SECTIONS = (Section("Patient", "profile", _patient_section),
            Section("Observation", "wearables", _observation_section),
            Section("Encounter", "encounters", _encounter_section),
            Section("Communication", "encounters", _communication_section))


def everything_page(patient, scopes, window, limit, cursor=None):
    """Up to `limit` resources of every section the caller's scopes allow, in section order.

    `cursor` is (section index, key within it); returns (resources, next cursor or None).
    """
    index, after = cursor or (0, None)
    found = []
    while index < len(SECTIONS):
        section = SECTIONS[index]
        if section.scope in scopes:
            batch, next_key = section.fetch(patient, window, limit - len(found), after)
            found += batch
            if next_key is not None:
                return found, (index, next_key)
        index, after = index + 1, None
        if len(found) >= limit:
            return found, (index, None) if index < len(SECTIONS) else None
    return found, None


def read_everything(patient, scopes, window, limit, cursor=None):
    found, next_cursor = everything_page(patient, scopes, window, limit, cursor)
    counts = {}
    for resource in found:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    record("fhir.everything", patient_id=patient.id, target_type="patient", target_id=patient.id,
           scopes=sorted(scopes), returned=counts, **grant_details())
    return found, next_cursor


def iterate_section(section, patient, window=(0, 2 ** 62)):
    """Every resource of one section, fetched BATCH rows at a time (for bulk export)."""
    after = None
    while True:
        batch, after = section.fetch(patient, window, BATCH, after)
        yield from batch
        if after is None:
            return
