"""FHIR R4 reads: CapabilityStatement, Patient, Observation search (raw and rolled up), $everything;
the access rule, audit, paging, and every error as an OperationOutcome. Every resource and Bundle
is validated with `fhir.resources`."""
import pytest

from tests.agent_helpers import ask, ready_patient, subscribe
from tests.factories import audit_events
from tests.fhir_helpers import check_vital_signs, fhir_json, loinc_codes, outcome, validate, walk
from tests.test_grant_scopes import grant

DAY = "2026-11-20"
SAMPLES = [
    {"type": "heart_rate", "start": f"{DAY}T08:00:00Z", "value": 72, "unit": "count/min"},
    {"type": "resting_heart_rate", "start": f"{DAY}T06:00:00Z", "value": 58, "unit": "count/min"},
    {"type": "heart_rate_variability", "start": f"{DAY}T06:00:00Z", "value": 45, "unit": "ms"},
    {"type": "steps", "start": f"{DAY}T08:00:00Z", "end": f"{DAY}T08:10:00Z", "value": 840, "unit": "count"},
    {"type": "distance", "start": f"{DAY}T08:00:00Z", "end": f"{DAY}T08:10:00Z", "value": 0.6, "unit": "km"},
    {"type": "active_energy", "start": f"{DAY}T08:00:00Z", "end": f"{DAY}T08:10:00Z", "value": 40, "unit": "kcal"},
    {"type": "oxygen_saturation", "start": f"{DAY}T07:00:00Z", "value": 0.97, "unit": "fraction"},
    {"type": "respiratory_rate", "start": f"{DAY}T07:00:00Z", "value": 14, "unit": "count/min"},
    {"type": "body_temperature", "start": f"{DAY}T07:00:00Z", "value": 98.6, "unit": "degF"},
    {"type": "body_weight", "start": f"{DAY}T07:00:00Z", "value": 70.5, "unit": "kg"},
    {"type": "blood_pressure", "start": f"{DAY}T07:00:00Z", "value": {"systolic": 121, "diastolic": 79},
     "unit": "mmHg"},
    {"type": "blood_glucose", "start": f"{DAY}T07:30:00Z", "value": 5.5, "unit": "mmol/L"},
    {"type": "sleep", "start": f"{DAY}T01:00:00Z", "end": f"{DAY}T02:30:00Z", "value": "deep"},
    {"type": "sleep", "start": f"{DAY}T02:30:00Z", "end": f"{DAY}T02:40:00Z", "value": "awake"},
]
# type → (main LOINC code, UCUM unit, value) of the Observation a SAMPLES entry becomes.
EXPECTED = {
    "heart_rate": ("8867-4", "/min", 72), "resting_heart_rate": ("40443-4", "/min", 58),
    "heart_rate_variability": ("80404-7", "ms", 45), "steps": ("55423-8", "{steps}", 840),
    "distance": ("55430-3", "m", 600), "active_energy": ("41981-2", "kcal", 40),
    "oxygen_saturation": ("59408-5", "%", 97), "respiratory_rate": ("9279-1", "/min", 14),
    "body_temperature": ("8310-5", "Cel", 37), "body_weight": ("29463-7", "kg", 70.5),
    "blood_glucose": ("2339-0", "mg/dL", 99.0858),
}


@pytest.fixture
def people(make_user, token_for, key_for):
    holder, dr = make_user("member"), make_user("clinician")
    return {"holder": holder, "holder_h": token_for(holder), "key": key_for(holder), "dr": dr,
            "dr_h": token_for(dr), "admin_h": token_for(make_user("admin"))}


@pytest.fixture
def pid(client, people):
    """A patient with one sample of every type."""
    pid = ready_patient(client, people["holder_h"], people["admin_h"])
    r = client.post(f"/api/v1/patients/{pid}/wearables", headers=people["holder_h"],
                    json={"source": "Sam’s Apple Watch", "samples": SAMPLES})
    assert r.status_code == 200 and r.get_json()["inserted"] == len(SAMPLES)
    return pid


def observations(client, pid, headers, query=""):
    return fhir_json(client.get(f"/fhir/R4/Observation?patient={pid}{query}", headers=headers))


def test_metadata_is_a_capability_statement_for_anyone(client):
    body = fhir_json(client.get("/fhir/R4/metadata"))
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {p["name"] for p in resources["Observation"]["searchParam"]} >= {"patient", "code", "date", "rollup"}
    assert {o["name"] for o in resources["Patient"]["operation"]} == {"everything", "export"}


def test_patient_read_by_owner_key_and_jwt(client, people, pid):
    for headers in (people["holder_h"], people["key"]):
        body = fhir_json(client.get(f"/fhir/R4/Patient/{pid}", headers=headers))
        assert body["resourceType"] == "Patient" and body["id"] == pid
        assert body["birthDate"] == "1980-01-02" and body["name"][0]["text"] == "Pat Example"
        assert body["active"] is True


def test_every_sample_type_becomes_a_valid_observation(client, people, pid):
    bundle = observations(client, pid, people["holder_h"])
    found = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["search"]["mode"] == "match"
        assert resource["device"]["display"] == "Sam’s Apple Watch"
        assert resource["subject"]["reference"] == f"Patient/{pid}"
        found.setdefault(loinc_codes(resource["code"])[0] if loinc_codes(resource["code"]) else
                         resource["code"]["coding"][0]["code"], resource)
    assert len(bundle["entry"]) == len(SAMPLES)
    for type_name, (code, unit, value) in EXPECTED.items():
        quantity = found[code]["valueQuantity"]
        assert (quantity["code"], quantity["system"]) == (unit, "http://unitsofmeasure.org"), type_name
        assert quantity["value"] == pytest.approx(value), type_name
    profiles = {check_vital_signs(r) for r in found.values() if "meta" in r}
    assert profiles == {"heartrate", "resprate", "oxygensat", "bodytemp", "bodyweight", "bp"}
    assert "2708-6" in loinc_codes(found["59408-5"]["code"])
    bp = found["85354-9"]
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [121, 79] and "valueQuantity" not in bp
    deep, awake = found["93831-6"], found["awake"]
    assert deep["effectivePeriod"] == {"start": f"{DAY}T01:00:00Z", "end": f"{DAY}T02:30:00Z"}
    assert deep["valueQuantity"]["value"] == 90 and awake["valueQuantity"]["value"] == 10
    assert found["8867-4"]["effectiveDateTime"] == f"{DAY}T08:00:00Z"
    assert found["55423-8"]["effectivePeriod"]["end"] == f"{DAY}T08:10:00Z"


def test_code_category_and_date_narrow_the_search(client, people, pid):
    h = people["holder_h"]
    body = observations(client, pid, h, "&code=http://loinc.org|8867-4,9279-1")
    assert sorted(loinc_codes(e["resource"]["code"])[0] for e in body["entry"]) == ["8867-4", "9279-1"]
    body = observations(client, pid, h, "&code=8480-6")  # a component code finds the panel
    assert [loinc_codes(e["resource"]["code"]) for e in body["entry"]] == [["85354-9"]]
    body = observations(client, pid, h, "&category=activity&date=ge2026-11-20T08:00:00Z")
    assert {loinc_codes(e["resource"]["code"])[0] for e in body["entry"]} == {"55423-8", "55430-3", "41981-2"}
    body = observations(client, pid, h, f"&date=ge{DAY}T06:00:00Z&date=lt{DAY}T07:00:00Z")
    assert {loinc_codes(e["resource"]["code"])[0] for e in body["entry"]} == {"40443-4", "80404-7"}
    assert observations(client, pid, h, "&date=2026-11-21")["entry"] == []
    assert observations(client, pid, h, "&code=0000-0")["entry"] == []
    assert len(observations(client, pid, h, "&date=2026-11")["entry"]) == len(SAMPLES)


def test_rollups_summarise_instead_of_raw_samples(client, people, pid):
    h = people["holder_h"]
    more = [{"type": "heart_rate", "start": f"{DAY}T08:{m:02d}:00Z", "value": 60 + m, "unit": "count/min"}
            for m in range(1, 21)]
    more += [{"type": "steps", "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T09:05:00Z", "value": 160,
              "unit": "count"}]
    assert client.post(f"/api/v1/patients/{pid}/wearables", headers=h,
                       json={"source": "phone", "samples": more}).status_code == 200
    body = observations(client, pid, h, "&code=8867-4&rollup=hour")
    (hour,) = [e["resource"] for e in body["entry"]]
    assert "meta" not in hour  # a mean is not a measurement: no vital-signs profile (test_fhir_connect)
    assert hour["effectivePeriod"] == {"start": f"{DAY}T08:00:00Z", "end": f"{DAY}T09:00:00Z"}
    stats = {c["code"]["coding"][0]["code"]: c for c in hour["component"]}
    assert stats["count"]["valueInteger"] == 21 and stats["minimum"]["valueQuantity"]["value"] == 61
    assert stats["maximum"]["valueQuantity"]["value"] == 80
    assert hour["valueQuantity"]["value"] == pytest.approx((72 + sum(range(61, 81))) / 21, abs=1e-4)
    body = observations(client, pid, h, "&code=55423-8&rollup=day")
    (day,) = [e["resource"] for e in body["entry"]]
    assert day["valueQuantity"]["value"] == 1000  # steps add up
    assert day["effectivePeriod"] == {"start": f"{DAY}T00:00:00Z", "end": "2026-11-21T00:00:00Z"}
    bp = observations(client, pid, h, "&code=85354-9&rollup=day")["entry"][0]["resource"]
    assert [loinc_codes(c["code"]) for c in bp["component"][:2]] == [["8480-6"], ["8462-4"]]
    everything = observations(client, pid, h, "&rollup=day")
    assert "93831-6" not in str(everything) and len(everything["entry"]) == 12  # sleep is never rolled up
    issue = outcome(client.get(f"/fhir/R4/Observation?patient={pid}&code=93831-6&rollup=day", headers=h), 400)
    assert issue["expression"] == ["rollup"]


def test_paging_next_links_walk_every_sample_exactly_once(client, people, pid):
    h = people["holder_h"]
    samples = [{"type": "heart_rate", "start": f"2026-11-2{d}T10:{m:02d}:00Z", "value": 60 + m % 40,
                "unit": "count/min"} for d in (1, 2) for m in range(60)]
    assert client.post(f"/api/v1/patients/{pid}/wearables", headers=h,
                       json={"source": "a", "samples": samples}).status_code == 200
    found, pages = walk(client, f"/fhir/R4/Observation?patient={pid}&code=8867-4&_count=7", h)
    ids = [r["id"] for r in found]
    assert len(ids) == 121 and len(set(ids)) == 121 and pages == 18
    times = [r["effectiveDateTime"] for r in found]
    assert times == sorted(times)
    hourly, pages = walk(client, f"/fhir/R4/Observation?patient={pid}&rollup=hour&_count=2", h)
    keys = [(r["effectivePeriod"]["start"], r["code"]["coding"][0]["code"]) for r in hourly]
    assert len(keys) == len(set(keys)) == 14 and pages in (7, 8)  # a page may end where a type does


def test_access_rule_owner_and_each_scope_then_revoke(client, people, pid):
    h, dr_h = people["holder_h"], people["dr_h"]
    urls = {"profile": f"/fhir/R4/Patient/{pid}", "wearables": f"/fhir/R4/Observation?patient={pid}"}
    for url in urls.values():
        assert outcome(client.get(url, headers=dr_h), 404)["code"] == "not-found"
    outcome(client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=dr_h), 404)
    gid = grant(client, h, dr_h, people["holder"], pid, ["wearables"])
    fhir_json(client.get(urls["wearables"], headers=dr_h))
    outcome(client.get(urls["profile"], headers=dr_h), 404)
    types = {e["resource"]["resourceType"] for e in
             fhir_json(client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=dr_h))["entry"]}
    assert types == {"Observation"}
    grant(client, h, dr_h, people["holder"], pid, ["profile"])
    fhir_json(client.get(urls["profile"], headers=dr_h))
    assert client.post(f"/api/v1/grants/{gid}/revoke", headers=h).status_code == 200
    outcome(client.get(urls["wearables"], headers=dr_h), 404)
    fhir_json(client.get(urls["profile"], headers=dr_h))


def test_everything_holds_encounters_and_their_messages_under_the_encounters_scope(
        client, people, make_user, token_for):
    h, dr_h = people["holder_h"], people["dr_h"]
    subscribe(client, h, people["admin_h"], plan="yearly")
    pid = ready_patient(client, h, people["admin_h"])
    enc = ask(client, people["key"], patient_id=pid).get_json()["encounter_id"]
    other = token_for(make_user("clinician"))
    assert client.post(f"/api/v1/encounters/{enc}/take", headers=other).status_code == 200
    client.post(f"/api/v1/encounters/{enc}/messages", headers=other, json={"body": "Any fever?"})
    client.post(f"/api/v1/encounters/{enc}/messages", headers=h, json={"body": "No fever."})
    client.post(f"/api/v1/encounters/{enc}/answer", headers=other, json={"body": "Rest and fluids."})
    grant(client, h, dr_h, people["holder"], pid, ["encounters"])
    body = fhir_json(client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=dr_h))
    by_type = {}
    for entry in body["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    assert set(by_type) == {"Encounter", "Communication"}
    (encounter,) = by_type["Encounter"]
    assert encounter["id"] == enc.replace("_", "-") and encounter["status"] == "in-progress"
    assert encounter["class"]["code"] == "VR" and encounter["reasonCode"][0]["text"].startswith("I have had")
    bodies = [c["payload"][0]["contentString"] for c in by_type["Communication"]]
    assert bodies == ["Any fever?", "No fever.", "Rest and fluids."]
    assert all(c["encounter"]["reference"] == f"Encounter/{encounter['id']}" for c in by_type["Communication"])
    owner_view = fhir_json(client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=h))
    assert [e["resource"]["resourceType"] for e in owner_view["entry"]][:2] == ["Patient", "Encounter"]


def test_everything_pages_across_sections_exactly_once(client, people, pid):
    found, pages = walk(client, f"/fhir/R4/Patient/{pid}/$everything?_count=4", people["holder_h"])
    assert [r["resourceType"] for r in found] == ["Patient"] + ["Observation"] * len(SAMPLES)
    assert len({r["id"] for r in found}) == len(found) and pages == 4
    window = walk(client, f"/fhir/R4/Patient/{pid}/$everything?start={DAY}T08:00:00Z", people["holder_h"])[0]
    assert len(window) == 1 + 4


def test_reads_are_audited_and_in_the_holders_access_log(app, client, people, pid, make_user, token_for):
    h, dr_h = people["holder_h"], people["dr_h"]
    gid = grant(client, h, dr_h, people["holder"], pid, ["profile", "wearables"])
    client.get(f"/fhir/R4/Patient/{pid}", headers=dr_h)
    client.get(f"/fhir/R4/Observation?patient={pid}&code=8867-4", headers=dr_h)
    client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=dr_h)
    events = audit_events(app, actor_user_id=people["dr"].id, patient_id=pid)
    actions = [e.action for e in events if e.action.startswith("fhir.")]
    assert actions == ["fhir.patient.read", "fhir.observation.search", "fhir.everything"]
    assert all(gid in e.details for e in events if e.action.startswith("fhir."))
    log = client.get(f"/api/v1/patients/{pid}/access-log", headers=h).get_json()["data"]
    assert {e["action"] for e in log if e["actor_role"] == "clinician"} >= set(actions)
    stranger = make_user("clinician")  # a refused attempt is in the log too
    outcome(client.get(f"/fhir/R4/Observation?patient={pid}", headers=token_for(stranger)), 404)
    (denied,) = audit_events(app, actor_user_id=stranger.id, patient_id=pid)
    assert (denied.action, denied.outcome) == ("patient.access", "denied")


def test_errors_are_operation_outcomes(app, client, people, pid):
    h = people["holder_h"]
    assert outcome(client.get(f"/fhir/R4/Patient/{pid}"), 401)["code"] == "login"
    assert outcome(client.get(f"/fhir/R4/Patient/{pid}", headers={"X-API-Key": "avk_wrong"}), 401)
    assert outcome(client.get("/fhir/R4/Patient/not-a-uuid", headers=h), 404)["code"] == "not-found"
    assert outcome(client.get("/fhir/R4/Nothing", headers=h), 404)
    for query, param in (("", "patient"), (f"patient={pid}&date=ge2026-13-45", "date"),
                         (f"patient={pid}&_count=-1", "_count"), (f"patient={pid}&rollup=week", "rollup"),
                         (f"patient={pid}&cursor=forged", "cursor"), (f"patient={pid}&bogus=1", "bogus")):
        issue = outcome(client.get(f"/fhir/R4/Observation?{query}", headers=h), 400)
        assert issue["code"] == "invalid" and issue["expression"] == [param], query
    lenient = client.get(f"/fhir/R4/Observation?patient={pid}&bogus=1",
                         headers={**h, "Prefer": "handling=lenient"})
    fhir_json(lenient)
    assert outcome(client.post("/fhir/R4/metadata"), 405)
    assert outcome(client.get(f"/fhir/R4/Observation?patient={pid}&_format=xml", headers=h), 406)
    fhir_json(client.get(f"/fhir/R4/Observation?patient={pid}&_format=application/fhir%2Bjson", headers=h))


def test_rate_limit_applies_and_is_an_operation_outcome(app, client, people, pid):
    app.config["RATELIMIT_JWT"] = "3/minute"
    h = people["holder_h"]
    for _ in range(3):
        r = client.get(f"/fhir/R4/Patient/{pid}", headers=h)
        assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "3"
    r = client.get(f"/fhir/R4/Patient/{pid}", headers=h)
    assert outcome(r, 429)["code"] == "throttled" and int(r.headers["Retry-After"]) > 0


def test_workout_and_asleep_map_without_a_schema_change(app):
    """The importer's `workout` type and `asleep` stage: one mapping line each, valid FHIR."""
    from avycenna.fhir.resources import _sleep, _workout

    resource = {"resourceType": "Observation", "id": "x", "status": "final",
                "code": {"text": "Exercise activity"}, "subject": {"reference": "Patient/p"},
                "effectivePeriod": {"start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:30:00Z"}}
    _workout(resource, {"activity": "running", "duration": 30, "distance": 5000, "energy": 310,
                        "heart_rate_avg": 150, "heart_rate_max": 171})
    validate(resource)
    assert resource["valueCodeableConcept"]["text"] == "running"
    assert [loinc_codes(c["code"])[0] for c in resource["component"]] == [
        "55411-3", "55430-3", "55424-6", "55425-3", "55426-1"]

    class Row:
        start_ms, end_ms = 0, 3_600_000
    _sleep(resource, Row, "asleep")
    assert loinc_codes(resource["code"]) == ["93832-4"] and resource["valueQuantity"]["value"] == 60


def test_a_stored_workout_and_asleep_interval_are_valid_observations(client, people, pid):
    """Workouts and the `asleep` stage as the wearables API stores them, read back over FHIR."""
    h = people["holder_h"]
    run = {"type": "workout", "start": f"{DAY}T06:00:00Z", "end": f"{DAY}T06:30:00Z",
           "value": {"activity": "running", "duration": 30, "distance": 5000, "energy": 310,
                     "heart_rate_avg": 150, "heart_rate_max": 171}}
    night = {"type": "sleep", "start": f"{DAY}T00:00:00Z", "end": f"{DAY}T01:00:00Z", "value": "asleep"}
    r = client.post(f"/api/v1/patients/{pid}/wearables", headers=h, json={"source": "watch", "samples": [run, night]})
    assert r.status_code == 200 and r.get_json()["inserted"] == 2, r.get_json()
    (workout,) = [e["resource"] for e in observations(client, pid, h, "&code=73985-4")["entry"]]
    validate(workout)
    assert workout["valueCodeableConcept"]["text"] == "running"
    assert {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in workout["component"]} == {
        "55411-3": 30, "55430-3": 5000, "55424-6": 310, "55425-3": 150, "55426-1": 171}
    (asleep,) = [e["resource"] for e in observations(client, pid, h, "&code=93832-4")["entry"]]
    validate(asleep)
    assert asleep["valueQuantity"]["value"] == 60
