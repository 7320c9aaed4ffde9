"""FHIR Bulk Data `Patient/$export` end to end with a real job worker: kick-off, polling, the
manifest, ndjson files (every line validated), the requester-only rule, cancel, expiry, audit."""
import json
import time
from datetime import timedelta

import pytest
import time_machine

from avycenna.db import database
from tests.factories import audit_events
from tests.fhir_helpers import fhir_json, outcome, validate
from tests.test_fhir import SAMPLES
from tests.test_grant_scopes import grant

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def clinic(client, make_user, token_for, key_for):
    """A clinician with two patients of two holders (wearables+profile, and profile only)."""
    dr = make_user("clinician")
    dr_h = token_for(dr)
    holders = []
    for scopes in (["profile", "wearables"], ["profile"]):
        holder = make_user("member")
        h = token_for(holder)
        pid = client.post("/api/v1/patients", headers=h, json={
            "name": "Pat " + scopes[-1], "date_of_birth": "1980-01-02", "relationship": "self"}).get_json()["id"]
        assert client.post(f"/api/v1/patients/{pid}/wearables", headers=h,
                           json={"source": "watch", "samples": SAMPLES}).status_code == 200
        grant(client, h, dr_h, holder, pid, scopes)
        holders.append({"user": holder, "h": h, "pid": pid})
    return {"dr": dr, "dr_h": dr_h, "key": key_for(dr), "holders": holders}


def local(url):
    return url.replace("http://127.0.0.1:8000", "")


def download(client, url, headers):
    """(response, text) of an ndjson file; the file handle is closed."""
    with client.get(local(url), headers=headers) as r:
        return r, r.get_data(as_text=True)


def wait_for_manifest(client, status_url, headers, timeout=30):
    """Poll like a Bulk Data client: 202 + X-Progress until 200."""
    progress = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(local(status_url), headers=headers)
        if r.status_code == 200:
            return r, progress
        assert r.status_code == 202 and r.headers["Retry-After"]
        fhir_json(r, 202)
        progress.append(r.headers["X-Progress"])
        time.sleep(0.05)
    raise AssertionError(f"export did not finish: {progress[-3:]}")


def kick_off(client, headers, query=""):
    r = client.get(f"/fhir/R4/Patient/$export{query}", headers={**headers, **ASYNC})
    fhir_json(r, 202)
    assert r.headers["Content-Location"].startswith("http://127.0.0.1:8000/fhir/R4/$export-status/exp_")
    return r.headers["Content-Location"]


def test_export_end_to_end_with_a_real_worker(app, client, clinic, job_worker):
    status_url = kick_off(client, clinic["dr_h"])
    r, _ = wait_for_manifest(client, status_url, clinic["dr_h"])
    assert r.mimetype == "application/json"
    manifest = r.get_json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"] == "http://127.0.0.1:8000/fhir/R4/Patient/$export"
    assert manifest["transactionTime"].endswith("Z")
    by_type = {o["type"]: o for o in manifest["output"]}
    assert set(by_type) == {"Patient", "Observation"}  # no `encounters` scope: no Encounter file
    assert by_type["Patient"]["count"] == 2 and by_type["Observation"]["count"] == len(SAMPLES)
    for resource_type, item in by_type.items():
        r, text = download(client, item["url"], clinic["key"])  # same credentials, key or JWT
        assert r.status_code == 200 and r.mimetype == "application/fhir+ndjson"
        lines = text.splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            resource = validate(json.loads(line))
            assert resource["resourceType"] == resource_type
    wearables_pid = clinic["holders"][0]["pid"]
    observations = [json.loads(x) for x in download(client, by_type["Observation"]["url"],
                                                    clinic["dr_h"])[1].splitlines()]
    assert {o["subject"]["reference"] for o in observations} == {f"Patient/{wearables_pid}"}
    # every patient's read is in their holder's access log, under the clinician's name
    for holder in clinic["holders"]:
        log = client.get(f"/api/v1/patients/{holder['pid']}/access-log", headers=holder["h"]).get_json()["data"]
        (event,) = [e for e in log if e["action"] == "fhir.export"]
        assert event["actor_user_id"] == clinic["dr"].id and event["actor_role"] == "clinician"


def test_only_the_requester_sees_the_export(client, clinic, job_worker, make_user, token_for):
    status_url = kick_off(client, clinic["dr_h"])
    manifest = wait_for_manifest(client, status_url, clinic["dr_h"])[0].get_json()
    stranger = token_for(make_user("clinician"))
    for url in (status_url, manifest["output"][0]["url"]):
        outcome(client.get(local(url), headers=stranger), 404)
        outcome(client.get(local(url)), 401)
    outcome(client.delete(local(status_url), headers=stranger), 404)


def test_owner_exports_their_own_patients_with_encounters_type_filter(client, clinic, job_worker):
    holder = clinic["holders"][1]
    status_url = kick_off(client, holder["h"], "?_type=Patient,Encounter")
    manifest = wait_for_manifest(client, status_url, holder["h"])[0].get_json()
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [("Patient", 1)]
    line = download(client, manifest["output"][0]["url"], holder["h"])[1]
    assert validate(json.loads(line))["id"] == holder["pid"]


def test_kick_off_errors_are_operation_outcomes(client, clinic):
    h = clinic["dr_h"]
    assert "respond-async" in outcome(client.get("/fhir/R4/Patient/$export", headers=h), 400)["diagnostics"]
    issue = outcome(client.get("/fhir/R4/Patient/$export?_type=Medication", headers={**h, **ASYNC}), 400)
    assert issue["expression"] == ["_type"]
    issue = outcome(client.get("/fhir/R4/Patient/$export?_outputFormat=text/csv", headers={**h, **ASYNC}), 400)
    assert issue["expression"] == ["_outputFormat"]
    outcome(client.get("/fhir/R4/Patient/$export", headers=ASYNC), 401)
    outcome(client.get("/fhir/R4/$export-status/exp_nothing", headers=h), 404)


def test_progress_then_cancel_deletes_everything(app, client, clinic):
    """Without a worker the export stays queued: the poll says so; DELETE cancels it for good."""
    status_url = kick_off(client, clinic["dr_h"])
    r = client.get(local(status_url), headers=clinic["dr_h"])
    assert r.status_code == 202 and r.headers["X-Progress"] == "queued"
    r = client.delete(local(status_url), headers=clinic["dr_h"])
    fhir_json(r, 202)
    outcome(client.get(local(status_url), headers=clinic["dr_h"]), 404)
    from avycenna.fhir.export import run_export
    from avycenna.fhir.models import FhirExport

    export_id = status_url.rsplit("/", 1)[1]
    with app.app_context(), database.obj.connection_context():
        run_export.call_local(export_id)  # a late worker finds it cancelled and does nothing
        assert FhirExport.get_by_id(export_id).status == "cancelled"
    import os
    assert not os.path.exists(os.path.join(app.instance_path, "fhir-exports", export_id))


def test_a_cancel_while_running_stops_the_run_and_leaves_no_files(app, client, clinic):
    from avycenna.fhir import export
    from avycenna.fhir.models import FhirExport

    status_url = kick_off(client, clinic["dr_h"])
    export_id = status_url.rsplit("/", 1)[1]
    with app.app_context(), database.obj.connection_context():
        job = export.claim(export_id)
        writer = export.Writer(job)
        writer.write({"resourceType": "Patient", "id": "x"})
        FhirExport.update(status="cancelled").where(FhirExport.id == export_id).execute()
        with pytest.raises(export.Cancelled):
            writer.beat(patients_done=1)
        writer.discard()
        assert not __import__("os").path.exists(export.file_path(job, "Patient"))


def test_files_are_deleted_after_the_configured_time(app, client, clinic, job_worker):
    app.config["FHIR_EXPORT_TTL"] = 60
    status_url = kick_off(client, clinic["dr_h"])
    manifest = wait_for_manifest(client, status_url, clinic["dr_h"])[0].get_json()
    from avycenna.fhir import export
    from avycenna.fhir.models import FhirExport

    export_id = status_url.rsplit("/", 1)[1]
    with app.app_context(), database.obj.connection_context():
        path = export.file_path(FhirExport.get_by_id(export_id), "Patient")
    import os
    assert os.path.exists(path)
    with time_machine.travel(timedelta(seconds=61)):
        outcome(client.get(local(manifest["output"][0]["url"]), headers=clinic["dr_h"]), 404)
        assert not os.path.exists(path)
        with app.app_context(), database.obj.connection_context():
            assert export.sweep() == {"deleted": 1, "restarted": 0}
            assert FhirExport.get_or_none(FhirExport.id == export_id) is None


def test_a_lost_job_is_restarted_by_the_sweep(app, client, clinic):
    """A worker that dies after claiming the export: the sweep hands it to a new run."""
    from avycenna.fhir import export
    from avycenna.fhir.models import FhirExport

    status_url = kick_off(client, clinic["dr_h"])
    export_id = status_url.rsplit("/", 1)[1]
    with app.app_context(), database.obj.connection_context():
        assert export.claim(export_id).attempt == 1
    with time_machine.travel(timedelta(minutes=11)):
        with app.app_context(), database.obj.connection_context():
            assert export.sweep() == {"deleted": 0, "restarted": 1}
            export.run_export.call_local(export_id)
            row = FhirExport.get_by_id(export_id)
            assert (row.status, row.attempt, row.patients_done) == ("done", 2, 2)
    events = audit_events(app, action="fhir.export")
    assert len(events) == 2
