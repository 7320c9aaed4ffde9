"""A bulk export is served only while its requester may still read every patient in it.

The grant that let a clinician export a patient ends (revoked, expired), the patient is
archived, the clinician demoted, the account disabled: the export's status and every file are a
404 OperationOutcome on the next request, and a narrowing the server is told of (not an expiry,
which nobody is told of) deletes the files at once. Every served file is audited once per
patient in it, and the files are 0600 in 0700 folders.
"""
import json
import os
import stat

import pytest

from avycenna.db import database
from tests.factories import audit_events
from tests.fhir_helpers import outcome
from tests.test_fhir import SAMPLES
from tests.test_grant_scopes import grant

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
MARK = "Quillon Export-Marker"


@pytest.fixture
def shared(app, client, make_user, token_for):
    """A clinician whose grant (profile + wearables) covers one patient, and a finished export."""
    dr = make_user("clinician")
    holder = make_user("member")
    dr_h, holder_h = token_for(dr), token_for(holder)
    pid = client.post("/api/v1/patients", headers=holder_h, json={
        "name": MARK, "date_of_birth": "1980-01-02", "relationship": "self"}).get_json()["id"]
    assert client.post(f"/api/v1/patients/{pid}/wearables", headers=holder_h,
                       json={"source": "watch", "samples": SAMPLES}).status_code == 200
    gid = grant(client, holder_h, dr_h, holder, pid, ["profile", "wearables"])
    status_url, files = run_export(app, client, dr_h)
    return {"dr": dr, "dr_h": dr_h, "holder": holder, "holder_h": holder_h, "pid": pid, "gid": gid,
            "status": status_url, "files": files}


def run_export(app, client, headers):
    """Kick off an export and run its job here; (status path, {type: file path})."""
    from avycenna.fhir.export import run_export as job

    r = client.get("/fhir/R4/Patient/$export", headers={**headers, **ASYNC})
    assert r.status_code == 202
    status_url = r.headers["Content-Location"].replace("http://127.0.0.1:8000", "")
    with app.app_context(), database.obj.connection_context():
        job.call_local(status_url.rsplit("/", 1)[1])
    manifest = client.get(status_url, headers=headers)
    assert manifest.status_code == 200, manifest.get_data(as_text=True)
    files = {o["type"]: o["url"].replace("http://127.0.0.1:8000", "") for o in manifest.get_json()["output"]}
    return status_url, files


def export_folder(app, shared):
    return os.path.join(app.instance_path, "fhir-exports", shared["status"].rsplit("/", 1)[1])


def assert_refused(app, client, shared, headers=None, files_deleted=True):
    headers = headers or shared["dr_h"]
    outcome(client.get(shared["status"], headers=headers), 404)
    for url in shared["files"].values():
        with client.get(url, headers=headers) as r:
            assert r.status_code == 404 and MARK not in r.get_data(as_text=True)
    if files_deleted:
        assert not os.path.exists(export_folder(app, shared))


def test_the_export_is_served_while_the_grant_holds(client, shared):
    with client.get(shared["files"]["Patient"], headers=shared["dr_h"]) as r:
        assert r.status_code == 200 and MARK in r.get_data(as_text=True)


def test_a_revoked_grant_ends_the_export_and_deletes_its_files(app, client, shared):
    r = client.post(f"/api/v1/grants/{shared['gid']}/revoke", headers=shared["holder_h"])
    assert r.status_code == 200
    assert not os.path.exists(export_folder(app, shared))  # at the revoke, not at the next poll
    assert_refused(app, client, shared)
    (event,) = [e for e in audit_events(app, action="fhir.export.cancel")]
    assert json.loads(event.details) == {"reason": "access"}


def test_an_expired_grant_ends_the_export_at_the_next_request(app, client, shared):
    """Nobody is told when a grant's end date passes: the check at reading time is what holds."""
    from avycenna.clock import utcnow
    from avycenna.grants.models import Grant

    with app.app_context(), database.obj.connection_context():
        Grant.update(expires_at=utcnow()).where(Grant.id == shared["gid"]).execute()
    assert_refused(app, client, shared)


def test_a_narrowed_grant_refuses_the_export(app, client, shared):
    """The grant is replaced by one without `profile`: the Patient file was written under it."""
    from avycenna.grants.models import Grant

    with app.app_context(), database.obj.connection_context():
        Grant.update(scopes="wearables").where(Grant.id == shared["gid"]).execute()
    assert_refused(app, client, shared, files_deleted=False)


def test_an_archived_patient_ends_the_export(app, client, shared):
    assert client.delete(f"/api/v1/patients/{shared['pid']}", headers=shared["holder_h"]).status_code == 204
    assert_refused(app, client, shared)


def test_a_demoted_clinician_loses_the_export(app, client, shared, make_user, token_for):
    admin_h = token_for(make_user("admin"))
    r = client.patch(f"/api/v1/admin/users/{shared['dr'].id}", headers=admin_h, json={"role": "member"})
    assert r.status_code == 200
    assert_refused(app, client, shared)


def test_a_disabled_account_loses_the_export(app, client, shared, make_user, token_for):
    admin_h = token_for(make_user("admin"))
    r = client.patch(f"/api/v1/admin/users/{shared['dr'].id}", headers=admin_h, json={"is_active": False})
    assert r.status_code == 200
    assert not os.path.exists(export_folder(app, shared))
    with app.app_context(), database.obj.connection_context():  # enabled again: the export stays gone
        from avycenna.auth.models import User
        User.update(is_active=True, disabled_at=None).where(User.id == shared["dr"].id).execute()
    assert_refused(app, client, shared)


def test_an_owners_export_survives_another_patients_revoke(app, client, shared, make_user, token_for):
    """Only exports that hold the narrowed patient are touched."""
    status_url, files = run_export(app, client, shared["holder_h"])
    assert client.post(f"/api/v1/grants/{shared['gid']}/revoke", headers=shared["holder_h"]).status_code == 200
    assert client.get(status_url, headers=shared["holder_h"]).status_code == 200
    with client.get(files["Patient"], headers=shared["holder_h"]) as r:
        assert r.status_code == 200 and MARK in r.get_data(as_text=True)


def test_every_download_is_in_the_holders_access_log(app, client, shared):
    for url in shared["files"].values():
        with client.get(url, headers=shared["dr_h"]) as r:
            assert r.status_code == 200
    log = client.get(f"/api/v1/patients/{shared['pid']}/access-log", headers=shared["holder_h"]).get_json()["data"]
    downloads = [e for e in log if e["action"] == "fhir.export.download"]
    assert len(downloads) == len(shared["files"]) == 2
    assert {(e["actor_user_id"], e["actor_role"]) for e in downloads} == {(shared["dr"].id, "clinician")}
    assert {e["target_id"] for e in downloads} == {shared["status"].rsplit("/", 1)[1]}
    events = audit_events(app, action="fhir.export.download")
    assert sorted(json.loads(e.details)["type"] for e in events) == sorted(shared["files"])


def test_export_files_are_private(app, client, make_user, token_for, shared):
    """0600 files in 0700 folders, from the instance's `fhir-exports` down, whatever the umask."""
    old = os.umask(0)
    try:
        status_url, files = run_export(app, client, shared["holder_h"])
    finally:
        os.umask(old)
    folder = os.path.join(app.instance_path, "fhir-exports")
    found = 0
    for root, dirs, names in os.walk(folder):
        assert stat.S_IMODE(os.stat(root).st_mode) == 0o700, root
        for name in names:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600, name
            found += 1
    assert found >= 4  # two exports, Patient and Observation each


def test_the_private_helpers_ignore_a_permissive_umask(tmp_path):
    from avycenna.private import open_private, private_dir

    old = os.umask(0)
    try:
        folder = private_dir(str(tmp_path / "a" / "b"))
        with open_private(os.path.join(folder, "f.txt")) as fh:
            fh.write("x")
        os.chmod(os.path.join(folder, "f.txt"), 0o644)
        with open_private(os.path.join(folder, "f.txt"), "ab") as fh:  # an existing file is tightened
            fh.write(b"y")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b" / "f.txt").st_mode) == 0o600
    assert (tmp_path / "a" / "b" / "f.txt").read_text() == "xy"


def test_an_import_upload_folder_is_private(app):
    from avycenna.imports.service import upload_dir, upload_file

    old = os.umask(0)
    try:
        with app.app_context():
            path = upload_dir()
            with upload_file() as fh:
                name = fh.name
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
