"""/fhir/R4: metadata, Patient read, Observation search, Patient/$everything (bulk export: export_views)."""
from flask import Blueprint, request

from avycenna.actor import auth_required, current_user
from avycenna.fhir import patients, search, service
from avycenna.fhir.capability import capability_statement
from avycenna.fhir.responses import base_url, decode_page, encode_page, fhir_response, searchset
from avycenna.access import readable_scopes, require_patient_access

bp = Blueprint("fhir", __name__, url_prefix="/fhir/R4")


@bp.before_request
def json_only():
    """JSON is the one format: `_format` or an `Accept` header asking for anything else (XML,
    Turtle…) is a 406 OperationOutcome on every read and search. Export files are ndjson."""
    if request.endpoint == "fhir.download":
        return
    search.check_format()


@bp.get("/metadata")
def metadata():
    """The CapabilityStatement (no sign-in needed)."""
    return fhir_response(capability_statement(base_url()))


@bp.get("/Patient")
@auth_required()
def search_patients():
    """The patients the caller may see (their own; a clinician's `profile` grants): `_id`,
    `identifier`, `name`, `family`, `given`, `birthdate`, `gender`, `_count`; paged."""
    query = search.patient_search()
    found, next_key = patients.search_patients(current_user(), query, decode_page(query["cursor"], "patients"))
    return fhir_response(searchset(found, next_key and encode_page("patients", next_key)))


@bp.get("/Patient/<patient_id>")
@auth_required()
def read_patient(patient_id):
    """A patient (owner, or a clinician with an active `profile` grant)."""
    patient = require_patient_access(patient_id, "profile")
    return fhir_response(patients.read_patient(patient))


@bp.get("/Observation/<observation_id>")
@auth_required()
def read_observation(observation_id):
    """One Observation, by the id a search gave it (owner, or a `wearables` grant)."""
    search.check_known(())
    return fhir_response(service.read_observation(observation_id))


@bp.get("/Encounter/<encounter_id>")
@auth_required()
def read_encounter(encounter_id):
    """One Encounter (owner, or an `encounters` grant)."""
    search.check_known(())
    return fhir_response(service.read_encounter(encounter_id))


@bp.get("/Communication/<communication_id>")
@auth_required()
def read_communication(communication_id):
    """One Communication: a message of an encounter (owner, or an `encounters` grant)."""
    search.check_known(())
    return fhir_response(service.read_communication(communication_id))


@bp.get("/Observation")
@auth_required()
def search_observations():
    """Wearable samples (or hourly/daily rollups) as a searchset (owner, or a `wearables` grant)."""
    query = search.observation_search()
    patient = require_patient_access(query["patient_id"], "wearables")
    mode = query["rollup"] or "raw"
    found, next_key = service.search_observations(patient, query, decode_page(query["cursor"], mode))
    return fhir_response(searchset(found, next_key and encode_page(mode, next_key)))


@bp.get("/Patient/<patient_id>/$everything")
@auth_required()
def everything(patient_id):
    """Everything about the patient the caller's grant scopes allow, paged."""
    query = search.everything_search()
    patient, scopes = readable_scopes(patient_id)
    found, next_cursor = service.read_everything(patient, scopes, (query["start_ms"], query["end_ms"]),
                                                 query["count"], decode_page(query["cursor"], "everything"))
    return fhir_response(searchset(found, next_cursor and encode_page("everything", next_cursor)))
