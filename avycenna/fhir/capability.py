"""The CapabilityStatement served at /fhir/R4/metadata: what this server does, from the same tables."""
from avycenna.clock import isoformat, utcnow
from avycenna.config import VERSION
from avycenna.fhir.mapping import OBSERVATIONS
from avycenna.fhir.search import DEFAULT_COUNT, MAX_COUNT

STRING_DOC = " (starts with, casefolded; `:exact`, `:contains`)."
PATIENT_SEARCH_PARAMS = [
    {"name": "_id", "type": "token", "documentation": "Patient ids (comma = or)."},
    {"name": "identifier", "type": "token",
     "documentation": "urn:ietf:rfc:3986|urn:uuid:{id} (the identifier every Patient carries)."},
    {"name": "name", "type": "string", "documentation": "Any word of the name, or the whole name" + STRING_DOC},
    {"name": "family", "type": "string", "documentation": "The name's last word" + STRING_DOC},
    {"name": "given", "type": "string", "documentation": "The name's other words" + STRING_DOC},
    {"name": "birthdate", "type": "date", "documentation": "eq/ge/gt/le/lt and any precision (1980, 1980-01)."},
    {"name": "gender", "type": "token", "documentation": "female, male, other or unknown."},
    {"name": "_count", "type": "number",
     "documentation": f"Page size, default {DEFAULT_COUNT}, at most {MAX_COUNT}; 0 for the total only."},
]

SEARCH_PARAMS = [
    {"name": "patient", "type": "reference", "documentation": "Required: the patient's id (or Patient/{id})."},
    {"name": "code", "type": "token",
     "documentation": "LOINC codes (comma = or): " + ", ".join(
         f"{spec.codes[0][0]} ({spec.type})" for spec in OBSERVATIONS.values()) + "."},
    {"name": "category", "type": "token", "documentation": "vital-signs, activity or laboratory."},
    {"name": "date", "type": "date",
     "documentation": "The sample's time; an interval (sleep, steps over ten minutes) is matched by "
                      "overlap, FHIR's rule for a Period: ge/gt/le/lt/eq, repeatable, e.g. "
                      "date=ge2026-11-01&date=lt2026-12-01. With rollup: the period's start."},
    {"name": "rollup", "type": "token",
     "documentation": "hour or day: one Observation per type and period (mean; the total for steps, "
                      "distance and energy; count/minimum/maximum as components) instead of raw samples. "
                      "Sleep and workouts are never rolled up."},
    {"name": "_count", "type": "number",
     "documentation": f"Page size, default {DEFAULT_COUNT}, at most {MAX_COUNT}; 0 for the total only; "
                      "follow the Bundle's next link."},
]


def capability_statement(base_url):
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": isoformat(utcnow()),
        "publisher": "AVYCENNA",
        "kind": "instance",
        "software": {"name": "AVYCENNA", "version": VERSION},
        "implementation": {"description": "AVYCENNA FHIR R4 (read-only export)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Same credentials as /api/v1 (Bearer JWT, X-API-Key or Bearer avk_ key) and the "
                             "same access rule: the owning account, or a clinician with an active grant "
                             "(profile → Patient; wearables → Observation; encounters → Encounter, "
                             "Communication). Every read is audited.",
            "security": {"cors": False,
                         "service": [{"coding": [{
                             "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                             "code": "SMART-on-FHIR"}]}],
                         "description": "Bearer JWT, personal API key (avk_…), or a SMART Backend Services token "
                                        "(client credentials with private_key_jwt; see "
                                        ".well-known/smart-configuration)."},
            "operation": [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                           "documentation": "System-level Bulk Data export, for admins: every patient the admin "
                                            "may read by the access rule; _type, _since."}],
            "resource": [
                {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": PATIENT_SEARCH_PARAMS,
                 "operation": [
                     {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                      "documentation": "Everything the caller may see; start, end, _count; paged."},
                     {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                      "documentation": "Bulk Data export (Prefer: respond-async) of the caller's patients; "
                                       "_type, _since (only what was stored or changed after it)."}]},
                {"type": "Observation", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "supportedProfile": sorted({"http://hl7.org/fhir/StructureDefinition/" + s.profile
                                             for s in OBSERVATIONS.values() if s.profile}),
                 "searchParam": SEARCH_PARAMS},
                {"type": "Group", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "documentation": "A clinician's \"my patients\": every patient an active grant of theirs covers "
                                  "(id grp-usr-…; readable by that clinician alone; GET /Group gives yours).",
                 "operation": [
                     {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                      "documentation": "Bulk Data export of the group's patients; _type, _since."}]},
                {"type": "Encounter", "interaction": [{"code": "read"}],
                 "documentation": "Read, and in $everything and $export."},
                {"type": "Communication", "interaction": [{"code": "read"}],
                 "documentation": "Read, and in $everything and $export."},
            ],
        }],
    }
