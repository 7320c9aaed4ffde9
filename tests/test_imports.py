"""Uploading an Apple Health export through the API: streamed to instance/imports/, imported
by the job queue, followed to 100 %, the file deleted afterwards; restarts and re-imports."""
import os
import sqlite3
import time

import pytest
import requests

from tests.factories import audit_events, make_patient
from tests.test_apple_health import INSERTED, SAMPLE, SKIPPED, export_zip


def imports_url(patient):
    return f"/api/v1/patients/{patient.id}/imports"


def upload(client, patient, headers, path, name=None):
    with open(path, "rb") as fh:
        return client.post(imports_url(patient), headers=headers, content_type="multipart/form-data",
                           data={"file": (fh, name or os.path.basename(path))})


def wait_finished(client, patient, headers, import_id, seconds=60):
    """Poll the status until the job has finished (a wait for the worker, not a speed limit)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"{imports_url(patient)}/{import_id}", headers=headers).get_json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"import still {body['status']} after {seconds} s")


def uploads_left(app):
    folder = os.path.join(app.instance_path, "imports")
    return os.listdir(folder) if os.path.isdir(folder) else []


def test_upload_a_zip_follow_it_to_done_and_the_file_is_gone(client, app, patient, headers, job_worker, tmp_path,
                                                              owner):
    r = upload(client, patient, headers, export_zip(tmp_path / "export.zip"))
    assert r.status_code == 202, r.get_json()
    queued = r.get_json()
    assert queued["status"] in ("queued", "running") and queued["filename"] == "export.zip"
    assert queued["progress"]["bytes_total"] == os.path.getsize(tmp_path / "export.zip")
    done = wait_finished(client, patient, headers, queued["id"])
    assert done["status"] == "done" and done["error"] is None
    assert done["progress"]["percent"] == 100.0 and done["progress"]["bytes_read"] == done["progress"]["bytes_total"]
    assert done["inserted"] == INSERTED and done["inserted_total"] == sum(INSERTED.values())
    assert done["duplicates"] == 0 and done["skipped"] == SKIPPED
    assert uploads_left(app) == []
    steps = client.get(f"/api/v1/patients/{patient.id}/wearables?type=steps&start=2026-11-20T00:00:00Z"
                       "&end=2026-11-22T00:00:00Z", headers=headers).get_json()["data"]
    assert len(steps) == 3
    actions = [e.action for e in audit_events(app, patient_id=str(patient.id)) if "import" in e.action]
    assert actions == ["wearables.import.create", "wearables.import.done"]
    assert all(e.actor_user_id == owner.id for e in audit_events(app, action="wearables.ingest"))

    again = upload(client, patient, headers, SAMPLE).get_json()  # the same export, as xml this time
    second = wait_finished(client, patient, headers, again["id"])
    assert second["status"] == "done" and second["inserted_total"] == 0
    assert second["duplicates"] == sum(INSERTED.values()) and uploads_left(app) == []


def test_a_truncated_upload_fails_with_counts_and_the_file_is_gone(client, app, patient, headers, job_worker,
                                                                   tmp_path):
    truncated = tmp_path / "export.xml"
    truncated.write_bytes(SAMPLE.read_bytes()[:SAMPLE.read_bytes().index(b"<Correlation") + 40])
    failed = wait_finished(client, patient, headers, upload(client, patient, headers, truncated).get_json()["id"])
    assert failed["status"] == "failed" and "breaks off" in failed["error"]
    assert failed["inserted_total"] == 14 and failed["skipped"]["unreadable date"] == 1
    assert uploads_left(app) == []


def test_only_the_owner_uploads_or_reads_an_import(client, app, patient, headers, make_user, token_for, owner,
                                                   tmp_path):
    from avycenna.db import database
    from avycenna.grants.models import Grant

    item = upload(client, patient, headers, SAMPLE).get_json()
    stranger, dr = make_user("member"), make_user("clinician")
    with app.app_context(), database.obj.connection_context():
        Grant.create(clinician=dr, email=owner.email, scopes="wearables", status="active", patient=patient)
    for other in (stranger, dr):
        assert upload(client, patient, token_for(other), SAMPLE).status_code == 404
        assert client.get(f"{imports_url(patient)}/{item['id']}", headers=token_for(other)).status_code == 404
    other_patient = make_patient(app, owner, name="Kid", relationship="child")
    assert client.get(f"{imports_url(other_patient)}/{item['id']}", headers=headers).status_code == 404
    assert client.post(imports_url(patient), data={"file": (open(SAMPLE, "rb"), "x")}).status_code == 401
    assert len(uploads_left(app)) == 1  # only the owner's upload, waiting for a worker


def test_a_missing_file_is_422_and_a_too_large_one_413_leaving_nothing(client, app, app_config, patient, headers,
                                                                       tmp_path):
    r = client.post(imports_url(patient), headers=headers, content_type="multipart/form-data",
                    data={"note": "no file"})
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["files", "file"]
    app.config["IMPORTS_MAX_CONTENT_LENGTH"] = 1000
    r = upload(client, patient, headers, SAMPLE)
    assert r.status_code == 413 and "at most 1000 bytes" in r.get_json()["detail"]
    assert uploads_left(app) == []
    r = client.post(imports_url(patient), headers=headers, json={"file": "x"})
    assert r.status_code == 422


def test_an_import_cut_off_by_a_restart_is_resumed_by_the_sweep(client, app, patient, headers, tmp_path):
    """A worker died mid-import (its progress went stale): the sweep queues it again and the
    next worker finishes it; samples the first attempt stored are not stored twice."""
    from datetime import timedelta

    from avycenna import jobs
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport
    from avycenna.wearables.apple_health import import_export

    item = upload(client, patient, headers, SAMPLE).get_json()  # no worker yet: it stays queued
    with app.app_context(), database.obj.connection_context():
        counts, _ = import_export(patient, SAMPLE)  # what the first attempt stored before it died
        WearableImport.update(status="running", heartbeat_at=utcnow() - timedelta(minutes=5), bytes_read=100,
                              inserted='{"heart_rate": 4}').where(WearableImport.id == item["id"]).execute()
        jobs.bulk.flush()  # the queued job went down with the process
        assert service.resume_stale() == [item["id"]]
    consumer = jobs.make_consumer(workers=1, queue="bulk")
    consumer.start()
    try:
        done = wait_finished(client, patient, headers, item["id"])
    finally:
        consumer.stop(graceful=True)
    assert done["status"] == "done" and done["inserted"] == {"heart_rate": 4}
    assert done["duplicates"] == sum(INSERTED.values()) - 4 and uploads_left(app) == []


def test_an_upload_survives_killing_the_server(tmp_path):
    """SIGKILL `python app.py` while it imports; after the restart the import finishes."""
    from bench.setup import make_instance
    from tests.test_instance import free_port, start_server, stop

    instance = tmp_path / "instance"
    _, patient, key = make_instance(str(instance))
    big = tmp_path / "export.xml"
    records = "".join(
        f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" value="{60 + m % 40}" '
        f'startDate="2026-11-{1 + m // 86400:02d} {m // 3600 % 24:02d}:{m // 60 % 60:02d}:{m % 60:02d} +0000" '
        f'endDate="2026-11-{1 + m // 86400:02d} {m // 3600 % 24:02d}:{m // 60 % 60:02d}:{m % 60:02d} +0000"/>\n'
        for m in range(150_000))
    big.write_text(f'<?xml version="1.0"?>\n<HealthData locale="en_US">\n{records}</HealthData>\n')
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/patients/{patient.id}/imports"
    env = {"AVYCENNA_IMPORTS_STALE_SECONDS": "3"}
    proc = start_server(instance, port, env)
    try:
        # 35 MB: over the server's own body limit, so it goes up as a real client sends it, resumably.
        from tusclient.client import TusClient

        with open(big, "rb") as fh:
            up = TusClient(base + "/uploads", headers={"X-API-Key": key}).uploader(
                file_stream=fh, chunk_size=8 * 1024 * 1024, metadata={"filename": "export.xml"})
            up.upload()
        item = {"id": up.request.response_headers["import-location"].rsplit("/", 1)[1]}
        deadline = time.monotonic() + 120
        while requests.get(f"{base}/{item['id']}", headers={"X-API-Key": key},
                           timeout=10).json()["progress"]["bytes_read"] == 0:
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.05)
        proc.kill()  # mid-import
    finally:
        proc.kill()
        proc.communicate()
    time.sleep(3.1)  # the cut-off import's lease has now expired
    proc = start_server(instance, port, env)
    try:
        deadline = time.monotonic() + 300
        while (body := requests.get(f"{base}/{item['id']}", headers={"X-API-Key": key},
                                    timeout=10).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
    finally:
        stop(proc)
    assert body["status"] == "done" and body["progress"]["percent"] == 100.0
    assert body["inserted"]["heart_rate"] + body["duplicates"] >= 150_000 and body["inserted"]["heart_rate"] > 0
    assert os.listdir(instance / "imports") == []
    with sqlite3.connect(instance / "avycenna.sqlite3") as conn:
        assert conn.execute("SELECT attempts FROM wearable_import").fetchone() == (2,)  # cut off, then resumed
        assert conn.execute("SELECT COUNT(*) FROM wearable_sample").fetchone() == (150_000,)
