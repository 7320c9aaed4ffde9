"""Our rows as FHIR R4 resources (plain dicts, JSON-ready). Pure functions: no queries, no audit.

Parts shared by many resources (an Observation type's code and category) are built once and
shared between the dicts: treat what these functions return as read-only.
"""
from functools import lru_cache

from avycenna.clock import isoformat
from avycenna.fhir.mapping import (BP_DIASTOLIC, BP_SYSTOLIC, CATEGORY_SYSTEM, LOINC, OBSERVATIONS, SLEEP_STAGES,
                                   STATISTIC_SYSTEM, UCUM, VITAL_SIGNS, WORKOUT_COMPONENTS)
from avycenna.clock import ms_to_iso
from avycenna.wearables.service import present_sample

GENDERS = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
CATEGORY_DISPLAY = {"vital-signs": "Vital Signs", "activity": "Activity", "laboratory": "Laboratory"}
# Encounter lifecycle → FHIR Encounter.status.
ENCOUNTER_STATUS = {"awaiting_checkout": "planned", "submitted": "arrived", "in_review": "in-progress",
                    "answered": "in-progress", "closed": "finished", "expired": "cancelled",
                    "cancelled": "cancelled"}
VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR", "display": "virtual"}


def fhir_id(our_id):
    """`enc_7jRtHvBk` → `enc-7jRtHvBk` (FHIR ids allow letters, digits, '-' and '.')."""
    return str(our_id).replace("_", "-")


def reference(resource_type, our_id):
    return {"reference": f"{resource_type}/{fhir_id(our_id)}"}


def patient(row):
    resource = {"resourceType": "Patient", "id": str(row.id),
                "meta": {"lastUpdated": isoformat(row.updated_at)},
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{row.id}"}],
                "active": row.archived_at is None,
                "name": [{"use": "usual", "text": row.name}],
                "birthDate": row.date_of_birth.isoformat()}
    if row.sex_at_birth:
        resource["gender"] = GENDERS.get(row.sex_at_birth, "unknown")
    return resource


def quantity(value, unit_code, unit_display=None):
    return {"value": value, "unit": unit_display or unit_code, "system": UCUM, "code": unit_code}


def coding(system, code, display):
    return {"system": system, "code": code, "display": display}


def concept(codes, text=None):
    result = {"coding": [coding(LOINC, code, display) for code, display in codes]}
    if text:
        result["text"] = text
    return result


@lru_cache(maxsize=None)
def _observation_head(type_name):
    """The parts every Observation of a type shares (profile, status, category, code): built once."""
    spec = OBSERVATIONS[type_name]
    head = {"meta": {"profile": [VITAL_SIGNS + spec.profile]}} if spec.profile else {}
    head.update({
        "status": "final",
        "category": [{"coding": [coding(CATEGORY_SYSTEM, spec.category, CATEGORY_DISPLAY[spec.category])]}],
        "code": concept(spec.codes),
    })
    return head


def _base_observation(spec, observation_id, patient_id, source):
    resource = {"resourceType": "Observation", "id": observation_id, **_observation_head(spec.type),
                "subject": reference("Patient", patient_id)}
    if source:
        resource["device"] = {"display": source}  # the device or app that recorded it
    return resource


def _effective(resource, start_ms, end_ms):
    if end_ms is None or end_ms == start_ms:
        resource["effectiveDateTime"] = ms_to_iso(start_ms)
    else:
        resource["effectivePeriod"] = {"start": ms_to_iso(start_ms), "end": ms_to_iso(end_ms)}


def _bp_components(systolic, diastolic):
    return [{"code": concept([BP_SYSTOLIC]), "valueQuantity": quantity(systolic, "mm[Hg]", "mmHg")},
            {"code": concept([BP_DIASTOLIC]), "valueQuantity": quantity(diastolic, "mm[Hg]", "mmHg")}]


def observation(row, patient_id):
    """One stored wearable sample (a row with the sample's columns) as an Observation
    (vital-signs profile where one applies)."""
    spec = OBSERVATIONS[row.type]
    sample = present_sample(row)
    resource = _base_observation(spec, f"ws-{row.id}", patient_id, row.source)
    _effective(resource, row.start_ms, row.end_ms)
    value = sample["value"]
    if row.type == "blood_pressure":
        resource["component"] = _bp_components(value["systolic"], value["diastolic"])
    elif row.type == "sleep":
        _sleep(resource, row, value)
    elif row.type == "workout":
        _workout(resource, value)
    else:
        resource["valueQuantity"] = quantity(value, spec.unit, spec.unit_display)
    return resource


def _sleep(resource, row, stage):
    system, code, display = SLEEP_STAGES[stage]
    resource["code"] = {"coding": [coding(system, code, display)], "text": display}
    minutes = round((row.end_ms - row.start_ms) / 60000.0, 4)
    resource["valueQuantity"] = quantity(minutes, "min", "min")


def _workout(resource, value):
    """A workout: the activity as the value, duration/distance/energy/heart rate as components."""
    value = value if isinstance(value, dict) else {"activity": str(value)}
    resource["valueCodeableConcept"] = {"text": str(value.get("activity") or "workout")}
    components = []
    for key, (code, unit) in WORKOUT_COMPONENTS.items():
        if value.get(key) is not None:
            components.append({"code": concept([code]), "valueQuantity": quantity(value[key], unit)})
    if components:
        resource["component"] = components


BUCKET_TEXT = {"hour": "per hour", "day": "per day (UTC)"}


def rollup_id(type_name, patient_id, bucket, start_ms):
    """`hr-h1763625600000-<patient hex>`: type, hour or day, the period's start, the patient
    (at most 57 characters; `parse_rollup_id` reads it back)."""
    return f"{OBSERVATIONS[type_name].short}-{bucket[0]}{start_ms}-{patient_hex(patient_id)}"


def patient_hex(patient_id):
    return str(patient_id).replace("-", "")


def rollup_observation(type_name, patient_id, bucket, item, start_ms, size_ms):
    """An hourly or daily rollup (from the summary service) as an Observation over that period.

    It says what it is, so nobody reads it as one measurement: `code.text` names the statistic
    and period ("Heart rate, mean per hour"), `method` carries R4's statistic code (`average`,
    or `sum` for steps, distance and energy) and count, minimum and maximum travel as components
    coded with the same code system; `effectivePeriod` is the hour or day. It claims no
    vital-signs profile (those describe a single measurement).
    """
    spec = OBSERVATIONS[type_name]
    statistic = ("sum", "Sum", "total") if spec.cumulative else ("average", "Average", "mean")
    name = spec.codes[0][1]
    resource = {"resourceType": "Observation", "id": rollup_id(type_name, patient_id, bucket, start_ms),
                "status": "final", "category": _observation_head(type_name)["category"],
                "code": concept(spec.codes, f"{name}, {statistic[2]} {BUCKET_TEXT[bucket]}"),
                "subject": reference("Patient", patient_id),
                "effectivePeriod": {"start": ms_to_iso(start_ms), "end": ms_to_iso(start_ms + size_ms)},
                "method": {"coding": [coding(STATISTIC_SYSTEM, statistic[0], statistic[1])],
                           "text": f"{statistic[1]} of {item['count']} samples {BUCKET_TEXT[bucket]}"}}
    count = {"code": {"coding": [coding(STATISTIC_SYSTEM, "count", "Count")]}, "valueInteger": item["count"]}
    if type_name == "blood_pressure":
        resource["component"] = _bp_components(round(item["mean"], 4), round(item["diastolic"]["mean"], 4))
        resource["component"].append(count)
        return resource
    value = item["mean"] * item["count"] if spec.cumulative else item["mean"]
    resource["valueQuantity"] = quantity(round(value, 4), spec.unit, spec.unit_display)
    resource["component"] = [count] + [
        {"code": {"coding": [coding(STATISTIC_SYSTEM, name, name.capitalize())]},
         "valueQuantity": quantity(item[key], spec.unit, spec.unit_display)}
        for name, key in (("minimum", "min"), ("maximum", "max"))]
    return resource


def encounter(row, reason=None):
    """An encounter (a remote question to a clinician) as a virtual Encounter."""
    resource = {"resourceType": "Encounter", "id": fhir_id(row.id),
                "meta": {"lastUpdated": isoformat(row.updated_at)},
                "status": ENCOUNTER_STATUS.get(row.status, "unknown"), "class": VIRTUAL,
                "subject": reference("Patient", row.patient_id)}
    start = row.submitted_at or row.created_at
    period = {"start": isoformat(start)}
    end = row.closed_at or (row.updated_at if row.status in ("expired", "cancelled") else None)
    if end is not None and end >= start:
        period["end"] = isoformat(end)
    resource["period"] = period
    if row.clinician_id is not None:
        resource["participant"] = [{"individual": {"display": row.clinician.name or "Clinician"}}]
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    return resource


def group(group_id, clinician, member_ids):
    """A clinician's "my patients": every patient an active grant of theirs covers, as references."""
    resource = {"resourceType": "Group", "id": group_id, "type": "person", "actual": True,
                "name": f"Patients of {clinician.name}" if clinician.name else "My patients", "quantity": len(member_ids)}
    if member_ids:
        resource["member"] = [{"entity": reference("Patient", pid)} for pid in member_ids]
    return resource


SENDERS = {"member": "Account holder", "clinician": "Clinician", "agent": "AI agent"}


def communication(row, patient_id):
    """A message of an encounter as a Communication."""
    resource = {"resourceType": "Communication", "id": fhir_id(row.id), "status": "completed",
                "subject": reference("Patient", patient_id),
                "encounter": reference("Encounter", row.encounter_id),
                "sent": isoformat(row.created_at),
                "sender": {"display": SENDERS.get(row.author_role, row.author_role)},
                "payload": [{"contentString": row.body}]}
    if row.reply_to:
        resource["inResponseTo"] = [reference("Communication", row.reply_to)]
    return resource


ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               406: "not-supported", 409: "conflict", 410: "deleted", 413: "too-costly", 415: "not-supported", 422: "invalid",
               429: "throttled", 500: "exception", 503: "transient"}


def operation_outcome(status, detail):
    """An error as an OperationOutcome: `detail` a message or a list of {loc, msg}."""
    code = ISSUE_CODES.get(status, "processing")
    if isinstance(detail, list):
        issues = [{"severity": "error", "code": code, "diagnostics": item["msg"],
                   **({"expression": [str(item["loc"][-1])]} if item.get("loc") else {})} for item in detail]
    else:
        issues = [{"severity": "error", "code": code, "diagnostics": str(detail)}]
    return {"resourceType": "OperationOutcome", "issue": issues}


def bundle(bundle_type, entries, self_url, next_url=None):
    """A Bundle of `entries` ((fullUrl, resource) pairs)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": bundle_type, "link": links,
            "entry": [{"fullUrl": url, "resource": resource, "search": {"mode": "match"}}
                      for url, resource in entries]}
