"""Resumable uploads (tus 1.0) of an Apple Health export, driven by the real Python client `tuspy`
against waitress: upload, a connection cut halfway, resume from Upload-Offset, finish → a queued
import; termination and expiry delete the bytes; another account gets 404; an offset that is not
the server's is a 409, and of two pieces racing for one offset only one is stored."""
import json
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from tests.factories import audit_events, make_patient
from tests.test_apple_health import INSERTED, SAMPLE
from tests.test_imports import uploads_left

TUS = {"Tus-Resumable": "1.0.0"}
PIECE = {**TUS, "Content-Type": "application/offset+octet-stream"}


def uploads_url(server, patient):
    return f"{server.url}/api/v1/patients/{patient.id}/imports/uploads"


OPENED = []


@pytest.fixture(autouse=True)
def close_files():
    """The files the uploaders read (tuspy leaves a file it opened itself open)."""
    yield
    while OPENED:
        OPENED.pop().close()


def uploader(server, patient, credentials, path=SAMPLE, url=None, chunk_size=1024):
    client = tus_client.TusClient(uploads_url(server, patient), headers=credentials)
    stream = open(path, "rb")
    OPENED.append(stream)
    return client.uploader(file_stream=stream, url=url, chunk_size=chunk_size, metadata={"filename": "export.xml"})


def wait_finished(location, credentials, seconds=60):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # a wait for the worker, not a speed limit
        body = requests.get(location, headers=credentials, timeout=10).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"import still {body['status']}")


def cut_halfway(url, offset, piece, credentials):
    """A PATCH whose connection is closed after half its body: the server never gets the piece."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    head = "".join(f"{k}: {v}\r\n" for k, v in {**PIECE, **credentials, "Upload-Offset": offset,
                                                 "Content-Length": len(piece)}.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode() + piece[:len(piece) // 2])


def test_upload_cut_halfway_resumes_from_the_offset_and_becomes_a_queued_import(live_server, app, owner, patient,
                                                                                key_for, job_worker):
    key = key_for(owner)
    size = SAMPLE.stat().st_size
    first = uploader(live_server, patient, key)
    first.upload(stop_at=size // 2)  # the client stops (or is killed) halfway
    url, sent = first.url, first.offset
    assert 0 < sent < size and url.startswith(uploads_url(live_server, patient) + "/upl_")
    data = SAMPLE.read_bytes()
    cut_halfway(url, sent, data[sent:sent + 1024], key)  # and a piece's connection is cut mid-body

    state = requests.head(url, headers={**TUS, **key}, timeout=10)
    assert state.status_code == 200 and int(state.headers["Upload-Offset"]) == sent
    assert int(state.headers["Upload-Length"]) == size and state.headers["Tus-Resumable"] == "1.0.0"
    assert state.headers["Cache-Control"] == "no-store" and "GMT" in state.headers["Upload-Expires"]
    stored = os.path.join(app.instance_path, "imports", f"resumable-{url.rsplit('/', 1)[1]}.part")
    assert os.stat(stored).st_mode & 0o777 == 0o600 and os.path.getsize(stored) == sent

    again = uploader(live_server, patient, key, url=url)  # a new client: asks the server where to go on
    assert again.offset == sent
    again.upload()
    location = again.request.response_headers["import-location"]
    assert "/api/v1/patients/" in location and "/imports/imp_" in location
    done = wait_finished(location, key)
    assert done["status"] == "done" and done["filename"] == "export.xml"
    assert done["inserted"] == INSERTED and done["progress"]["bytes_total"] == size
    assert uploads_left(app) == []  # the import deleted the file it took over
    actions = [e.action for e in audit_events(app, patient_id=str(patient.id)) if "import" in e.action]
    assert actions[0] == "wearables.import.upload.create" and actions[-1] == "wearables.import.done"
    assert "wearables.import.upload.complete" in actions and "wearables.import.create" in actions
    pieces = [json.loads(e.details) for e in audit_events(app, patient_id=str(patient.id))
              if e.action in ("wearables.import.upload.append", "wearables.import.upload.complete")]
    assert sum(p["bytes"] for p in pieces) == size and len(pieces) >= size // 1024  # every piece audited

    # Complete: its state still answers, another piece is a conflict.
    assert requests.head(url, headers={**TUS, **key}, timeout=10).headers["Upload-Offset"] == str(size)
    r = requests.patch(url, headers={**PIECE, **key, "Upload-Offset": str(size)}, data=b"x", timeout=10)
    assert r.status_code in (409, 413) and set(r.json()) == {"detail"}


def test_options_and_protocol_errors_answer_as_tus_says_with_json_bodies(live_server, owner, patient, key_for, app):
    key = key_for(owner)
    base = uploads_url(live_server, patient)
    r = requests.options(base, headers=key, timeout=10)
    assert r.status_code == 204 and r.headers["Tus-Version"] == "1.0.0"
    assert r.headers["Tus-Extension"] == "creation,termination,expiration"
    assert int(r.headers["Tus-Max-Size"]) == app.config["IMPORTS_MAX_CONTENT_LENGTH"]

    r = requests.post(base, headers={**key, "Upload-Length": "10"}, timeout=10)  # no Tus-Resumable
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0" and set(r.json()) == {"detail"}
    r = requests.post(base, headers={**TUS, **key, "Upload-Length": str(app.config["IMPORTS_MAX_CONTENT_LENGTH"] + 1)},
                      timeout=10)
    assert r.status_code == 413 and r.headers["Tus-Resumable"] == "1.0.0" and set(r.json()) == {"detail"}
    for bad in ({"Upload-Length": "-1"}, {"Upload-Length": "ten"}, {}, {"Upload-Defer-Length": "1"},
                {"Upload-Length": "10", "Upload-Metadata": "filename not-base64!"}):
        r = requests.post(base, headers={**TUS, **key, **bad}, timeout=10)
        assert r.status_code == 400 and set(r.json()) == {"detail"}, (bad, r.text)

    r = requests.post(base, headers={**TUS, **key, "Upload-Length": "100"}, timeout=10)
    assert r.status_code == 201
    url = r.headers["Location"]
    r = requests.patch(url, headers={**TUS, **key, "Upload-Offset": "0", "Content-Type": "application/json"},
                       data=b"{}", timeout=10)
    assert r.status_code == 415 and set(r.json()) == {"detail"}
    r = requests.patch(url, headers={**PIECE, **key, "Upload-Offset": "5"}, data=b"x" * 10, timeout=10)
    assert r.status_code == 409 and "offset 0" in r.json()["detail"] and r.headers["Tus-Resumable"] == "1.0.0"
    r = requests.patch(url, headers={**PIECE, **key, "Upload-Offset": "0"}, data=b"x" * 101, timeout=10)
    assert r.status_code == 413 and set(r.json()) == {"detail"}
    r = requests.patch(url, headers={**PIECE, **key, "Upload-Offset": "0"}, data=b"x" * 10, timeout=10)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "10" and "Import-Location" not in r.headers


def test_a_piece_over_its_limit_is_the_apis_json_413(live_server, owner, patient, key_for, app):
    """2 MB to a route whose pieces may be 1 MB: within the server's limit, so the route answers, as JSON."""
    app.config["IMPORTS_UPLOAD_CHUNK_SIZE"] = 1024 * 1024
    key = key_for(owner)
    url = requests.post(uploads_url(live_server, patient), headers={**TUS, **key, "Upload-Length": str(4 << 20)},
                        timeout=10).headers["Location"]
    r = requests.patch(url, headers={**PIECE, **key, "Upload-Offset": "0"}, data=b"x" * (2 << 20), timeout=30)
    assert r.status_code == 413 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"detail": f"A piece may be at most {1024 * 1024} bytes."}
    assert requests.head(url, headers={**TUS, **key}, timeout=10).headers["Upload-Offset"] == "0"


def test_terminate_deletes_the_bytes(live_server, app, owner, patient, key_for):
    key = key_for(owner)
    up = uploader(live_server, patient, key)
    up.upload(stop_at=2048)
    folder = os.path.join(app.instance_path, "imports")
    assert len(os.listdir(folder)) == 1
    r = requests.delete(up.url, headers={**TUS, **key}, timeout=10)
    assert r.status_code == 204 and r.headers["Tus-Resumable"] == "1.0.0"
    assert os.listdir(folder) == []
    assert requests.head(up.url, headers={**TUS, **key}, timeout=10).status_code == 404
    with pytest.raises((TusCommunicationError, TusUploadFailed)):
        uploader(live_server, patient, key, url=up.url).upload()
    assert [e.action for e in audit_events(app, action="wearables.import.upload.delete")] == \
        ["wearables.import.upload.delete"]


def test_an_abandoned_upload_expires_and_housekeeping_deletes_its_bytes(live_server, app, owner, patient, key_for):
    from avycenna import housekeeping
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.imports.models import ImportUpload

    key = key_for(owner)
    up = uploader(live_server, patient, key)
    up.upload(stop_at=2048)
    kept = uploader(live_server, patient, key)
    kept.upload(stop_at=1024)
    folder = os.path.join(app.instance_path, "imports")
    assert len(os.listdir(folder)) == 2
    with app.app_context(), database.obj.connection_context():
        assert housekeeping.run()["uploads expired"] == 0
        upload_id = up.url.rsplit("/", 1)[1]
        ImportUpload.update(expires_at=utcnow() - timedelta(seconds=1)).where(ImportUpload.id == upload_id).execute()
        assert requests.head(up.url, headers={**TUS, **key}, timeout=10).status_code == 404  # expired: gone already
        assert housekeeping.run()["uploads expired"] == 1
        assert ImportUpload.get_or_none(ImportUpload.id == upload_id) is None
    assert os.listdir(folder) == [f"resumable-{kept.url.rsplit('/', 1)[1]}.part"]
    assert requests.head(kept.url, headers={**TUS, **key}, timeout=10).headers["Upload-Offset"] == "1024"
    expired = audit_events(app, action="wearables.import.upload.expire")
    assert len(expired) == 1 and expired[0].target_id == upload_id


def test_only_the_owner_sees_an_upload_others_get_404(live_server, app, owner, patient, key_for, make_user,
                                                      token_for):
    from tests.test_grant_scopes import grant

    key = key_for(owner)
    up = uploader(live_server, patient, key)
    up.upload(stop_at=1024)
    stranger, dr = make_user(), make_user("clinician")
    with app.test_client() as client:  # a clinician with every scope: still not the owner
        grant(client, token_for(owner), token_for(dr), owner, str(patient.id), ["profile", "wearables"])
    theirs = make_patient(app, stranger)
    for credentials in (key_for(stranger), key_for(dr)):
        for method, headers in (("head", TUS), ("patch", {**PIECE, "Upload-Offset": "1024"}), ("delete", TUS)):
            r = requests.request(method, up.url, headers={**headers, **credentials}, timeout=10,
                                 data=b"x" * 10 if method == "patch" else None)
            assert r.status_code == 404, (method, r.status_code)
            if method != "head":
                assert set(r.json()) == {"detail"} and r.headers["Tus-Resumable"] == "1.0.0"
        r = requests.post(uploads_url(live_server, patient), headers={**TUS, **credentials, "Upload-Length": "10"},
                          timeout=10)
        assert r.status_code == 404 and set(r.json()) == {"detail"}
    # The owner's upload id under another patient (the stranger's own) is not found either.
    other_url = up.url.replace(str(patient.id), str(theirs.id))
    assert requests.head(other_url, headers={**TUS, **key_for(stranger)}, timeout=10).status_code == 404
    assert requests.head(up.url, headers=TUS, timeout=10).status_code == 401
    assert requests.head(up.url, headers={**TUS, **key}, timeout=10).headers["Upload-Offset"] == "1024"


def test_two_pieces_racing_for_one_offset_store_one(live_server, app, owner, patient, key_for):
    key = key_for(owner)
    url = requests.post(uploads_url(live_server, patient), headers={**TUS, **key, "Upload-Length": str(1 << 20)},
                        timeout=10).headers["Location"]
    start, answers = threading.Barrier(4), []

    def send(fill):
        start.wait()
        answers.append(requests.patch(url, headers={**PIECE, **key, "Upload-Offset": "0"}, data=fill * 4096,
                                      timeout=30))
    threads = [threading.Thread(target=send, args=(bytes([65 + i]),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [204, 409, 409, 409]
    winner = next(r for r in answers if r.status_code == 204)
    assert winner.headers["Upload-Offset"] == "4096"
    assert requests.head(url, headers={**TUS, **key}, timeout=10).headers["Upload-Offset"] == "4096"
    stored = os.path.join(app.instance_path, "imports", f"resumable-{url.rsplit('/', 1)[1]}.part")
    with open(stored, "rb") as fh:
        content = fh.read()
    assert len(content) == 4096 and len(set(content)) == 1  # one piece whole, never two mixed


def test_a_writer_holding_the_upload_makes_another_piece_a_conflict(app, owner, patient):
    """The conditional update itself: while one request writes a piece, another with the same
    offset is refused, and the offset moves only from where the piece began."""
    import io

    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.errors import ApiError
    from avycenna.imports import resumable
    from avycenna.imports.models import ImportUpload

    with app.test_request_context(), database.obj.connection_context():
        upload = resumable.start(patient, owner, 20, "export.xml")
        ImportUpload.update(writer="someone", writer_until=utcnow() + timedelta(seconds=60)).where(
            ImportUpload.id == upload.id).execute()
        with pytest.raises(ApiError) as refused:
            resumable.append(upload, 0, io.BytesIO(b"x" * 10), 10)
        assert refused.value.code == 409
        ImportUpload.update(writer_until=utcnow() - timedelta(seconds=1)).where(ImportUpload.id == upload.id).execute()
        upload, item = resumable.append(upload, 0, io.BytesIO(b"x" * 10), 10)  # that writer died: taken over
        assert upload.offset == 10 and item is None
        stale = ImportUpload.get_by_id(upload.id)
        stale.offset = 0  # a request that read the upload before the piece above moved it
        with pytest.raises(ApiError) as refused:
            resumable.append(stale, 0, io.BytesIO(b"y" * 10), 10)
        assert refused.value.code == 409 and ImportUpload.get_by_id(upload.id).offset == 10


def test_unfinished_uploads_per_account_are_bounded(live_server, app, owner, patient, key_for):
    key = key_for(owner)
    made = [requests.post(uploads_url(live_server, patient), headers={**TUS, **key, "Upload-Length": "10"},
                          timeout=10) for _ in range(app.config["IMPORTS_UPLOADS_PER_ACCOUNT"] + 1)]
    assert [r.status_code for r in made] == [201] * app.config["IMPORTS_UPLOADS_PER_ACCOUNT"] + [409]
    assert requests.delete(made[0].headers["Location"], headers={**TUS, **key}, timeout=10).status_code == 204
    assert requests.post(uploads_url(live_server, patient), headers={**TUS, **key, "Upload-Length": "10"},
                         timeout=10).status_code == 201


def test_uploads_started_at_once_keep_the_account_limit(live_server, app, owner, patient, key_for):
    """Racing creations are counted one after another (the account's row is held on PostgreSQL)."""
    key, limit = key_for(owner), app.config["IMPORTS_UPLOADS_PER_ACCOUNT"]
    barrier = threading.Barrier(limit + 3)

    def create(_):
        with requests.Session() as session:
            request = session.prepare_request(requests.Request(
                "POST", uploads_url(live_server, patient), headers={**TUS, **key, "Upload-Length": "10"}))
            barrier.wait()
            return session.send(request, timeout=30).status_code

    with ThreadPoolExecutor(limit + 3) as pool:
        made = sorted(pool.map(create, range(limit + 3)))
    assert made == [201] * limit + [409] * 3


def test_pieces_of_megabytes_pass_though_other_routes_take_one(live_server, app, owner, patient, key_for, tmp_path):
    """A 5 MB file in pieces of 4 MB (over MAX_CONTENT_LENGTH, within IMPORTS_UPLOAD_CHUNK_SIZE)."""
    key = key_for(owner)
    big = tmp_path / "export.zip"
    big.write_bytes(os.urandom(5 << 20))
    up = uploader(live_server, patient, key, path=big, chunk_size=4 << 20)
    up.upload()
    assert up.offset == 5 << 20 and "/imports/imp_" in up.request.response_headers["import-location"]
    from avycenna.db import database
    from avycenna.imports.models import WearableImport

    with app.app_context(), database.obj.connection_context():
        item = WearableImport.get(WearableImport.patient == patient)
        with open(item.path, "rb") as fh:
            assert fh.read() == big.read_bytes()
