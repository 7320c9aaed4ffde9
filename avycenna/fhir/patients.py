"""FHIR Patient search and reads, a clinician's Group: who the caller may find, matched on
the stored name (one text: `family` is its last word, `given` the others), audited per patient
with the grant each was shown through."""
from datetime import date, timedelta

from avycenna.access import grant_ids, readable_patients
from avycenna.audit.service import grant_details, record, record_many
from avycenna.fhir import resources
from avycenna.pagination import row_key, seek
from avycenna.patients.models import Patient
from avycenna.patients.service import patient_uuid
from avycenna.wearables.service import DAY_MS

BATCH = 1000  # patients read per query while matching names
EPOCH_DAY = date(1970, 1, 1)
MIN_DAY, MAX_DAY = (date(1, 1, 1) - EPOCH_DAY).days, (date(9999, 12, 31) - EPOCH_DAY).days


def visible_patients(user):
    """The live patients whose Patient resource (their identity) `user` may read: the access
    rule's `readable_patients` with the `profile` scope."""
    return readable_patients(user, "profile")


def _name_parts(patient, name):
    """The words `family` (the name's last word), `given` (the others) or `name` (all, and the
    whole text) search, casefolded."""
    words = patient.name.casefold().split()
    if name == "family":
        return words[-1:]
    if name == "given":
        return words[:-1]
    return words + [patient.name.casefold()]


def _string_matches(patient, strings):
    for name, modifier, values in strings:
        parts = _name_parts(patient, name)
        if modifier == ":exact":
            ok = any(patient.name.casefold() == v if name == "name" else v in parts for v in values)
        elif modifier == ":contains":
            ok = any(v in part for v in values for part in parts)
        else:
            ok = any(part.startswith(v) for v in values for part in parts)
        if not ok:
            return False
    return True


def birthdate_conditions(filters):
    """Birth dates (each the whole day) matching date filters by the same range rule."""
    conditions = []
    for prefix, lower, upper in filters:
        day_lower, day_upper = lower // DAY_MS, upper // DAY_MS  # floor, in days since 1970
        ceil_lower, ceil_upper = -(-lower // DAY_MS), -(-upper // DAY_MS)
        if prefix == "eq":
            low, high = ceil_lower, day_upper - 1
        elif prefix in ("ge", "gt"):
            low, high = (day_lower if prefix == "ge" else day_upper), None
        else:
            low, high = None, (ceil_upper if prefix == "le" else ceil_lower) - 1
        if (low is not None and low > MAX_DAY) or (high is not None and high < MIN_DAY):
            conditions.append(Patient.id.is_null())  # nothing: the bound is past any date
            continue
        if low is not None and low > MIN_DAY:
            conditions.append(Patient.date_of_birth >= EPOCH_DAY + timedelta(days=low))
        if high is not None and high < MAX_DAY:
            conditions.append(Patient.date_of_birth <= EPOCH_DAY + timedelta(days=high))
    return conditions


def patient_query(user, query):
    rows = visible_patients(user)
    if query["ids"] is not None:
        ids = [pid for pid in (patient_uuid(i) for i in query["ids"]) if pid is not None]
        rows = rows.where(Patient.id.in_(ids))
    if query["genders"] is not None:
        rows = rows.where(Patient.sex_at_birth.in_(sorted(query["genders"])))
    for condition in birthdate_conditions(query["birthdate"]):
        rows = rows.where(condition)
    return rows


PATIENT_KEY = (Patient.id,)


def patients_page(user, query, limit, after=None):
    """(up to `limit` Patients matching the search, the next key or None), by id. Names are
    matched here (casefolded words, so any script matches) on rows read BATCH at a time."""
    rows, found, key = patient_query(user, query), [], after
    while True:
        batch = list(seek(rows, PATIENT_KEY, key).limit(BATCH))
        for row in batch:
            if _string_matches(row, query["strings"]):
                if len(found) == limit:
                    return found, row_key(found[-1], PATIENT_KEY)
                found.append(row)
        if len(batch) < BATCH:
            return found, None
        key = row_key(batch[-1], PATIENT_KEY)


def count_patients(user, query):
    rows = patient_query(user, query)
    if not query["strings"]:
        return rows.count()
    return sum(1 for row in rows.iterator() if _string_matches(row, query["strings"]))


def search_patients(user, query, after):
    """A page of the Patient search (or its total for `_count=0`); every patient shown is
    audited with the grant it went through, so each holder's access log shows it."""
    if query["count"] == 0:
        return count_patients(user, query), None
    found, next_key = patients_page(user, query, query["count"], after)
    grants = grant_ids(user, [p.id for p in found], "profile")
    record_many("fhir.patient.search", [
        {"patient_id": p.id, "target_type": "patient", "target_id": p.id,
         "details": {"grant_id": grants[p.id]} if p.id in grants else {}} for p in found])
    return [resources.patient(p) for p in found], next_key


def read_group(user, group_id, member_ids):
    """A clinician's Group of patients, audited once per member (each holder's log shows it)."""
    record_many("fhir.group.read", [{"patient_id": pid, "target_type": "group", "target_id": group_id}
                                    for pid in member_ids])
    return resources.group(group_id, user, member_ids)


def read_patient(patient):
    record("fhir.patient.read", patient_id=patient.id, target_type="patient", target_id=patient.id,
           **grant_details())
    return resources.patient(patient)
