"""The CapabilityStatement served at /fhir/R4/metadata: what this server does, from the same tables."""
from avycenna.clock import isoformat, utcnow
from avycenna.config import VERSION
from avycenna.fhir.mapping import OBSERVATIONS
from avycenna.fhir.search import DEFAULT_COUNT, MAX_COUNT

SEARCH_PARAMS = [
    {"name": "patient", "type": "reference", "documentation": "Required: the patient's id (or Patient/{id})."},
    {"name": "code", "type": "token",
     "documentation": "LOINC codes (comma = or): " + ", ".join(
         f"{spec.codes[0][0]} ({spec.type})" for spec in OBSERVATIONS.values()) + "."},
    {"name": "category", "type": "token", "documentation": "vital-signs, activity or laboratory."},
    {"name": "date", "type": "date",
     "documentation": "The sample's start; repeat with prefixes, e.g. date=ge2026-11-01&date=lt2026-12-01."},
    {"name": "rollup", "type": "token",
     "documentation": "hour or day: one Observation per type and period (mean; the total for steps, "
                      "distance and energy; count/minimum/maximum as components) instead of raw samples. "
                      "Sleep and workouts are never rolled up."},
    {"name": "_count", "type": "number",
     "documentation": f"Page size, default {DEFAULT_COUNT}, at most {MAX_COUNT}; follow the Bundle's next link."},
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
            "resource": [
                {"type": "Patient", "interaction": [{"code": "read"}],
                 "operation": [
                     {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                      "documentation": "Everything the caller may see; start, end, _count; paged."},
                     {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                      "documentation": "Bulk Data export (Prefer: respond-async) of the caller's patients."}]},
                {"type": "Observation", "interaction": [{"code": "search-type"}],
                 "supportedProfile": sorted({"http://hl7.org/fhir/StructureDefinition/" + s.profile
                                             for s in OBSERVATIONS.values() if s.profile}),
                 "searchParam": SEARCH_PARAMS},
                {"type": "Encounter", "documentation": "In $everything and $export."},
                {"type": "Communication", "documentation": "In $everything and $export."},
            ],
        }],
    }
