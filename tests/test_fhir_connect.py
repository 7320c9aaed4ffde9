"""What a clinic's connector needs without custom code (issue 21): every reference resolves,
Patient search, JSON-only formats, `_count=0`, interval dates by overlap, honest rollups.
Each test fails on the server before this work."""
import json

import pytest

from tests.agent_helpers import ask, ready_patient, subscribe
from tests.factories import audit_events
from tests.fhir_helpers import fhir_json, loinc_codes, outcome, validate, walk
from tests.test_fhir import DAY, SAMPLES, observations, people, pid  # noqa: F401 (fixtures)
from tests.test_grant_scopes import grant

STATISTICS = "http://terminology.hl7.org/CodeSystem/observation-statistics"


def local(url):
    return url.replace("http://127.0.0.1:8000", "").replace("http://localhost", "")


# 1. Every reference resolves -------------------------------------------------------------------

def test_every_observation_a_search_emits_can_be_read_at_its_full_url(client, people, pid):
    h = people["holder_h"]
    for query in ("", "&rollup=hour", "&rollup=day"):
        bundle = observations(client, pid, h, query)
        assert bundle["entry"]
        for entry in bundle["entry"]:
            read = fhir_json(client.get(local(entry["fullUrl"]), headers=h))
            assert read == entry["resource"], entry["fullUrl"]


def test_observation_and_encounter_reads_follow_the_access_rule_and_are_audited(
        app, client, people, make_user, token_for):
    h, dr_h = people["holder_h"], people["dr_h"]
    subscribe(client, h, people["admin_h"], plan="yearly")
    pid = ready_patient(client, h, people["admin_h"])
    client.post(f"/api/v1/patients/{pid}/wearables", headers=h, json={"source": "w", "samples": SAMPLES[:1]})
    enc = ask(client, people["key"], patient_id=pid).get_json()["encounter_id"]
    other = token_for(make_user("clinician"))
    assert client.post(f"/api/v1/encounters/{enc}/take", headers=other).status_code == 200
    client.post(f"/api/v1/encounters/{enc}/messages", headers=other, json={"body": "Any fever?"})
    everything = fhir_json(client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=h))
    urls = {e["resource"]["resourceType"]: local(e["fullUrl"]) for e in everything["entry"]}
    assert set(urls) == {"Patient", "Observation", "Encounter", "Communication"}
    assert urls["Encounter"].endswith(enc.replace("_", "-"))
    communication = fhir_json(client.get(urls["Communication"], headers=h))
    assert fhir_json(client.get("/fhir/R4/" + communication["encounter"]["reference"], headers=h))["id"] \
        == enc.replace("_", "-")
    for url in (urls["Observation"], urls["Encounter"], urls["Communication"]):
        assert outcome(client.get(url, headers=dr_h), 404)["code"] == "not-found"  # no grant yet
    gid = grant(client, h, dr_h, people["holder"], pid, ["wearables"])
    fhir_json(client.get(urls["Observation"], headers=dr_h))
    outcome(client.get(urls["Encounter"], headers=dr_h), 404)  # wearables do not open encounters
    grant(client, h, dr_h, people["holder"], pid, ["encounters"])
    fhir_json(client.get(urls["Encounter"], headers=dr_h))
    fhir_json(client.get(urls["Communication"], headers=dr_h))
    actions = [e.action for e in audit_events(app, actor_user_id=people["dr"].id, patient_id=pid)
               if e.action.startswith("fhir.")]
    assert actions == ["fhir.observation.read", "fhir.encounter.read", "fhir.communication.read"]
    assert client.post(f"/api/v1/grants/{gid}/revoke", headers=h).status_code == 200
    outcome(client.get(urls["Observation"], headers=dr_h), 404)
    for bad_id in ("ws-99999999", "ws-x", "enc-nothing", "hr-h1-" + "0" * 32, "../Patient", "hr-h0-" + "f" * 32):
        outcome(client.get(f"/fhir/R4/Observation/{bad_id}", headers=h), 404)
        outcome(client.get(f"/fhir/R4/Encounter/{bad_id}", headers=h), 404)


# 3. Formats and _count=0 -----------------------------------------------------------------------

def test_json_only_every_other_format_is_a_406_on_reads_and_searches(client, people, pid):
    h = people["holder_h"]
    for url in (f"/fhir/R4/Patient/{pid}", f"/fhir/R4/Observation?patient={pid}", "/fhir/R4/metadata"):
        sep = "&" if "?" in url else "?"
        for fmt in ("xml", "application/fhir%2Bxml", "ttl"):
            assert outcome(client.get(f"{url}{sep}_format={fmt}", headers=h), 406)["code"] == "not-supported"
        for accept in ("application/fhir+xml", "application/xml", "text/turtle"):
            outcome(client.get(url, headers={**h, "Accept": accept}), 406)
        for fmt in ("json", "application/fhir%2Bjson", "application/json"):
            fhir_json(client.get(f"{url}{sep}_format={fmt}", headers=h))
        for accept in ("application/fhir+json", "application/json", "*/*", "application/fhir+xml;q=0.9, */*;q=0.1"):
            fhir_json(client.get(url, headers={**h, "Accept": accept}))
    statement = fhir_json(client.get("/fhir/R4/metadata"))
    assert set(statement["format"]) == {"json", "application/fhir+json"}


def test_count_zero_is_the_total_only(client, people, pid):
    body = observations(client, pid, people["holder_h"], "&_count=0")
    assert body["type"] == "searchset" and body["total"] == len(SAMPLES) and not body.get("entry")
    assert [link["relation"] for link in body["link"]] == ["self"]
    body = observations(client, pid, people["holder_h"], "&_count=0&code=8867-4&rollup=hour")
    assert body["total"] == 1 and not body.get("entry")


# 5. Honest rollups -----------------------------------------------------------------------------

def test_a_rollup_says_its_statistic_and_period_and_claims_no_vital_signs_profile(client, people, pid):
    h = people["holder_h"]
    (hour,) = [e["resource"] for e in observations(client, pid, h, "&code=8867-4&rollup=hour")["entry"]]
    assert "meta" not in hour or not hour["meta"].get("profile")
    assert hour["code"]["text"] == "Heart rate, mean per hour" and loinc_codes(hour["code"]) == ["8867-4"]
    assert hour["method"]["coding"] == [{"system": STATISTICS, "code": "average", "display": "Average"}]
    assert hour["effectivePeriod"] == {"start": f"{DAY}T08:00:00Z", "end": f"{DAY}T09:00:00Z"}
    assert {c["code"]["coding"][0]["system"] for c in hour["component"]} == {STATISTICS}
    (day,) = [e["resource"] for e in observations(client, pid, h, "&code=55423-8&rollup=day")["entry"]]
    assert day["method"]["coding"][0]["code"] == "sum" and day["code"]["text"].endswith("total per day (UTC)")
    raw = observations(client, pid, h, "&code=8867-4")["entry"][0]["resource"]
    assert raw["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/heartrate"] and "method" not in raw


# 2. Patient search -----------------------------------------------------------------------------

def add(client, headers, name, dob, sex=None):
    r = client.post("/api/v1/patients", headers=headers, json={
        "name": name, "date_of_birth": dob, "relationship": "other", **({"sex_at_birth": sex} if sex else {})})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def names(bundle):
    return sorted(e["resource"]["name"][0]["text"] for e in bundle.get("entry", []))


def test_patient_search_over_the_patients_the_caller_may_see(app, client, people, make_user, token_for):
    h, dr_h = people["holder_h"], people["dr_h"]
    ids = {name: add(client, h, name, dob, sex) for name, dob, sex in (
        ("Ada María Lovelace", "1980-01-02", "female"), ("Émile Zola", "1975-06-30", "male"),
        ("Grace Hopper", "1980-12-31", None), ("Alan Turing", "1912-06-23", "male"))}
    stranger_h = token_for(make_user("member"))
    add(client, stranger_h, "Ada Stranger", "1980-01-02", "female")  # never found by anyone else

    def search(query, headers=h):
        return fhir_json(client.get(f"/fhir/R4/Patient?{query}", headers=headers))

    assert names(search("")) == sorted(ids)
    assert names(search("name=ada")) == ["Ada María Lovelace"]
    assert names(search("name=mar")) == ["Ada María Lovelace"]  # any word, casefolded
    assert names(search("name=ÉMILE")) == ["Émile Zola"]
    assert names(search("name:contains=opp")) == ["Grace Hopper"]
    assert names(search("name:exact=grace hopper")) == ["Grace Hopper"] and not search("name:exact=grace").get("entry")
    assert names(search("family=turing")) == ["Alan Turing"] and not search("family=alan").get("entry")
    assert names(search("given=alan,grace")) == ["Alan Turing", "Grace Hopper"]
    assert names(search("gender=male")) == ["Alan Turing", "Émile Zola"]
    assert names(search("gender=female&name=ada")) == ["Ada María Lovelace"]
    assert names(search("birthdate=1980")) == ["Ada María Lovelace", "Grace Hopper"]
    assert names(search("birthdate=ge1980-06&birthdate=lt1981")) == ["Grace Hopper"]
    assert names(search("birthdate=gt1975-06-30&birthdate=le1980-01-02")) == ["Ada María Lovelace"]
    assert names(search("birthdate=lt1913")) == ["Alan Turing"]
    assert names(search(f"_id={ids['Grace Hopper']},{ids['Alan Turing']}")) == ["Alan Turing", "Grace Hopper"]
    found = search(f"identifier=urn:ietf:rfc:3986|urn:uuid:{ids['Grace Hopper']}")
    assert names(found) == ["Grace Hopper"]
    assert found["entry"][0]["resource"]["identifier"] == [
        {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{ids['Grace Hopper']}"}]
    assert search("_count=0")["total"] == 4 and search("_count=0&name=a")["total"] == 2
    resources, pages = walk(client, "/fhir/R4/Patient?_count=3", h)
    assert sorted(r["name"][0]["text"] for r in resources) == sorted(ids) and pages == 2
    for query, param in (("gender=robot", "gender"), ("birthdate=1980-13", "birthdate"), ("nickname=x", "nickname"),
                         ("_count=1001", "_count"), ("name=", "name"), ("cursor=forged", "cursor")):
        assert outcome(client.get(f"/fhir/R4/Patient?{query}", headers=h), 400)["expression"] == [param]
    # A clinician finds only the patients whose identity a grant shows them (the `profile` scope).
    assert not search("", dr_h).get("entry") and names(search("name=ada", stranger_h)) == ["Ada Stranger"]
    grant(client, h, dr_h, people["holder"], ids["Grace Hopper"], ["wearables"])
    gid = grant(client, h, dr_h, people["holder"], ids["Alan Turing"], ["profile"])
    assert names(search("", dr_h)) == ["Alan Turing"]
    assert not search(f"_id={ids['Grace Hopper']}", dr_h).get("entry")
    events = [e for e in audit_events(app, actor_user_id=people["dr"].id) if e.action == "fhir.patient.search"]
    assert [str(e.patient_id) for e in events] == [ids["Alan Turing"]] and gid in events[0].details
    assert client.post(f"/api/v1/grants/{gid}/revoke", headers=h).status_code == 200
    assert not search("", dr_h).get("entry")


# 4. Dates on intervals -------------------------------------------------------------------------

def test_date_search_matches_intervals_by_overlap(client, people, pid):
    h = people["holder_h"]
    night = [{"type": "sleep", "start": "2026-11-21T23:10:00Z", "end": "2026-11-22T00:10:00Z", "value": "light"}]
    assert client.post(f"/api/v1/patients/{pid}/wearables", headers=h,
                       json={"source": "ring", "samples": night}).status_code == 200

    def sleep(query):
        body = observations(client, pid, h, "&code=93830-8" + query)
        return [e["resource"]["effectivePeriod"]["start"] for e in body["entry"]]

    found = ["2026-11-21T23:10:00Z"]
    assert sleep("&date=ge2026-11-22") == found  # it reaches into the next day
    assert sleep("&date=2026-11-22") == [] and sleep("&date=2026-11-21") == []  # eq: contained
    assert sleep("&date=ge2026-11-21&date=le2026-11-22") == found
    assert sleep("&date=gt2026-11-22T00:09:00Z") == found and sleep("&date=gt2026-11-22T00:10:00Z") == []
    assert sleep("&date=lt2026-11-21T23:11:00Z") == found and sleep("&date=lt2026-11-21T23:10:00Z") == []
    assert sleep("&date=le2026-11-21T23:10:00Z") == found and sleep("&date=ge2026-11-22T00:10:00Z") == []
    assert observations(client, pid, h, "&code=93830-8&date=ge2026-11-22&_count=0")["total"] == 1
    # Points keep their meaning: a heart rate at 08:00 is on that day, and not after it.
    assert len(observations(client, pid, h, f"&code=8867-4&date={DAY}")["entry"]) == 1
    assert observations(client, pid, h, f"&code=8867-4&date=gt{DAY}T08:00:00Z")["entry"] == []


# 6. Bulk Data: Group, _since, _type, system ---------------------------------------------------

from tests.test_fhir_export import ASYNC, clinic, download, wait_for_manifest  # noqa: E402,F401 (fixture)


def ndjson(client, manifest, headers):
    """{type: [resources]} of every file of a manifest, each line validated."""
    files = {}
    for output in manifest["output"]:
        r, text = download(client, output["url"], headers)
        assert r.status_code == 200 and r.mimetype == "application/fhir+ndjson"
        files[output["type"]] = [validate(json.loads(line)) for line in text.splitlines()]
        assert len(files[output["type"]]) == output["count"]
    return files


def group_export(client, group_url, headers, query):
    r = client.get(f"{group_url}/$export?{query}", headers={**headers, **ASYNC})
    fhir_json(r, 202)
    r, _ = wait_for_manifest(client, r.headers["Content-Location"], headers)
    assert r.status_code == 200
    return r.get_json()


def test_group_export_with_since_and_type_then_an_increment(app, client, clinic, job_worker, make_user, token_for):
    dr_h = clinic["dr_h"]
    (wearing, profile_only) = clinic["holders"]
    groups = fhir_json(client.get("/fhir/R4/Group", headers=dr_h))
    (group,) = [e["resource"] for e in groups["entry"]]
    url = f"/fhir/R4/Group/{group['id']}"
    read = fhir_json(client.get(url, headers=dr_h))
    assert read["type"] == "person" and read["actual"] is True and read["quantity"] == 2
    assert sorted(m["entity"]["reference"] for m in read["member"]) == sorted(
        f"Patient/{h['pid']}" for h in clinic["holders"])
    other_dr = token_for(make_user("clinician"))
    for headers in (other_dr, wearing["h"]):  # another clinician, a holder: nothing there
        outcome(client.get(url, headers=headers), 404)
        outcome(client.get(f"{url}/$export", headers={**headers, **ASYNC}), 404)
    assert not fhir_json(client.get("/fhir/R4/Group", headers=wearing["h"])).get("entry")

    first = group_export(client, url, dr_h, "_type=Patient,Observation&_since=2000-01-01T00:00:00Z")
    files = ndjson(client, first, dr_h)
    assert set(files) == {"Patient", "Observation"}  # no Encounter, Communication: not asked for
    assert sorted(p["id"] for p in files["Patient"]) == sorted(h["pid"] for h in clinic["holders"])
    assert len(files["Observation"]) == len(SAMPLES)  # the profile-only grant shows no samples
    assert first["request"].endswith("_type=Patient,Observation&_since=2000-01-01T00:00:00Z")

    later = [{"type": "heart_rate", "start": "2026-11-25T08:00:00Z", "value": 99, "unit": "count/min"},
             {"type": "steps", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T08:05:00Z", "value": 12,
              "unit": "count"}]
    assert client.post(f"/api/v1/patients/{wearing['pid']}/wearables", headers=wearing["h"],
                       json={"source": "watch", "samples": SAMPLES + later}).get_json()["inserted"] == 2
    second = group_export(client, url, dr_h, f"_type=Patient,Observation&_since={first['transactionTime']}")
    files = ndjson(client, second, dr_h)
    assert set(files) == {"Observation"}  # nobody's Patient changed
    assert sorted(o["effectiveDateTime"] if "effectiveDateTime" in o else o["effectivePeriod"]["start"]
                  for o in files["Observation"]) == ["2026-11-25T08:00:00Z"] * 2

    r = client.patch(f"/api/v1/patients/{profile_only['pid']}", headers=profile_only["h"], json={"name": "Pat Renamed"})
    assert r.status_code == 200, r.get_json()
    third = group_export(client, url, dr_h, f"_since={second['transactionTime']}")
    files = ndjson(client, third, dr_h)
    assert set(files) == {"Patient"} and [p["name"][0]["text"] for p in files["Patient"]] == ["Pat Renamed"]


def run_here(app, client, response, headers):
    """Run the job a kick-off queued, here; its manifest."""
    from avycenna.db import database
    from avycenna.fhir.export import run_export

    fhir_json(response, 202)
    status_url = local(response.headers["Content-Location"])
    with app.app_context(), database.obj.connection_context():
        run_export.call_local(status_url.rsplit("/", 1)[1])
    r = client.get(status_url, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_since_is_honoured_or_refused_on_every_kick_off(app, client, clinic, make_user, token_for):
    dr_h = clinic["dr_h"]
    for query, param in (("_since=yesterday", "_since"), ("_type=Nothing", "_type")):
        assert outcome(client.get(f"/fhir/R4/Patient/$export?{query}", headers={**dr_h, **ASYNC}),
                       400)["expression"] == [param]
    lenient = {**dr_h, **ASYNC, "Prefer": "respond-async, handling=lenient"}
    r = client.get("/fhir/R4/Patient/$export?_since=2999-01-01T00:00:00Z&_bogus=1", headers=lenient)
    assert run_here(app, client, r, dr_h)["output"] == []  # honoured, not dropped: nothing changed after 2999
    r = client.get("/fhir/R4/Patient/$export?_since=2000-01-01&_bogus=1", headers=lenient)
    assert {o["type"] for o in run_here(app, client, r, dr_h)["output"]} == {"Patient", "Observation"}
    outcome(client.get("/fhir/R4/$export", headers={**dr_h, **ASYNC}), 403)
    admin_h = token_for(make_user("admin"))
    fhir_json(client.get("/fhir/R4/$export?_since=2026-01-01T00:00:00Z", headers={**admin_h, **ASYNC}), 202)
