"""The dashboard's Apple Health import page: upload an export.zip, watch the bar reach 100 %."""
import os

import requests

from tests.test_apple_health import INSERTED, SAMPLE, export_zip
from tests.test_web_security import HTML, csrf_token, sign_in
from tests.web_fixtures import no_horizontal_scroll, sign_in_with_password

PASSWORD = "correct horse battery"


def test_upload_on_the_page_and_the_progress_bar_reaches_100(live_server, phone, job_worker, make_user, key_for,
                                                              app, tmp_path):
    holder = make_user(email="holder@example.test", password=PASSWORD)
    patient = requests.post(live_server.url + "/api/v1/patients", headers=key_for(holder), timeout=10,
                            json={"name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).json()
    sign_in_with_password(phone, "holder@example.test", PASSWORD)
    phone.wait_for_selector("text=Sign out")
    phone.goto(f"/account/patients/{patient['id']}")
    phone.click("text=Import an Apple Health export")
    phone.set_input_files("#f-file", str(export_zip(tmp_path / "export.zip")))
    phone.click("text=Upload and import")
    phone.wait_for_selector("h2:has-text('Done')", timeout=60_000)
    assert phone.get_attribute("#import-progress", "value") == "100.0"
    assert f"{sum(INSERTED.values())} samples stored, 0 already there" in phone.inner_text("#import-totals")
    assert "workout" in phone.inner_text("#import-inserted")
    assert "date without a time zone" in phone.inner_text("#import-skipped")
    assert no_horizontal_scroll(phone)
    assert os.listdir(os.path.join(app.instance_path, "imports")) == []
    phone.click("text=Apple Health import")
    assert "export.zip" in phone.inner_text("main") and "done" in phone.inner_text("main")


def test_the_page_checks_csrf_after_streaming_and_hides_others_imports(client, app, make_user, tmp_path):
    from tests.factories import make_patient

    owner, other = make_user(password=PASSWORD), make_user(password=PASSWORD)
    patient = make_patient(app, owner)
    sign_in(client, owner.email)
    path = f"/account/patients/{patient.id}/imports"
    with open(export_zip(tmp_path / "export.zip"), "rb") as fh:
        r = client.post(path, data={"file": (fh, "export.zip")}, content_type="multipart/form-data")
    assert r.status_code == 400 and os.listdir(os.path.join(app.instance_path, "imports")) == []
    token = csrf_token(client, path)
    r = client.post(path, data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 302 and "Choose the export.zip" in client.get(path, headers=HTML).get_data(as_text=True)
    with open(export_zip(tmp_path / "export.zip"), "rb") as fh:
        r = client.post(path, data={"csrf_token": token, "file": (fh, "export.zip")},
                        content_type="multipart/form-data")
    assert r.status_code == 302
    status_page = r.headers["Location"]
    assert "Waiting to start" in client.get(status_page, headers=HTML).get_data(as_text=True)

    client.post("/signout", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, other.email)
    assert client.get(status_page, headers=HTML).status_code == 404
    assert client.get(path, headers=HTML).status_code == 404


def test_the_page_uploads_with_tus_js_client_and_resumes_after_a_reload(live_server, page, job_worker, make_user,
                                                                        key_for, app, tmp_path):
    """The page's file goes up in pieces (tus-js-client); the page is reloaded midway, the same
    file chosen again, and the upload goes on from the server's offset, not from the start."""
    from tests.factories import audit_events

    app.config["IMPORTS_UPLOAD_CHUNK_SIZE"] = 1024
    holder = make_user(email="holder@example.test", password=PASSWORD)
    patient = requests.post(live_server.url + "/api/v1/patients", headers=key_for(holder), timeout=10,
                            json={"name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).json()
    export = tmp_path / "export.xml"
    export.write_bytes(SAMPLE.read_bytes())
    assert os.path.getsize(export) > 4 * 1024  # 7 pieces of 1 KB
    sign_in_with_password(page, "holder@example.test", PASSWORD)
    page.wait_for_selector("text=Sign out")
    page.goto(f"/account/patients/{patient['id']}/imports")
    assert page.evaluate("typeof window.tus.Upload") == "function"  # served by this server (no CDN: CSP)

    pieces, held = [], []

    def hold_after_three(route):  # the connection of the 4th piece never answers: the person reloads
        if route.request.method == "PATCH":
            pieces.append(route.request.headers["upload-offset"])
            if len(pieces) > 3:
                held.append(route)
                return
        route.continue_()
    page.route("**/imports/uploads/**", hold_after_three)
    page.set_input_files("#f-file", str(export))
    page.click("text=Upload and import")
    while not held:
        page.wait_for_timeout(50)  # waiting for the 4th piece to be sent (not a speed limit)
    assert pieces[:4] == ["0", "1024", "2048", "3072"]
    assert float(page.get_attribute("#upload-progress", "value")) >= 40  # the bar shows the 3 pieces sent
    page.unroute("**/imports/uploads/**")
    page.reload()
    assert "did not finish" in page.inner_text("#upload-resume")
    page.set_input_files("#f-file", str(export))
    resumed = []
    page.on("response", lambda r: resumed.append((r.request.method, r.request.headers.get("upload-offset"),
                                                  r.headers.get("upload-offset")))
            if "/imports/uploads/" in r.url else None)
    page.click("text=Upload and import")
    page.wait_for_selector("h2:has-text('Done')", timeout=60_000)
    (head, _, server_offset), (patch, sent_from, _) = resumed[:2]
    # On from the server's offset (3072, or 4096 if the held piece got through as the page went).
    assert head == "HEAD" and patch == "PATCH" and sent_from == server_offset and int(server_offset) >= 3072
    assert phone_free_of_errors(page)
    assert f"{sum(INSERTED.values())} samples stored" in page.inner_text("#import-totals")
    assert len(audit_events(app, action="wearables.import.upload.create")) == 1  # one upload, resumed
    assert os.listdir(os.path.join(app.instance_path, "imports")) == []


def phone_free_of_errors(page):
    return page.query_selector(".error") is None


def test_the_pages_tus_endpoint_needs_the_csrf_header_and_the_owner(client, app, make_user):
    from tests.factories import make_patient

    owner, other = make_user(password=PASSWORD), make_user(password=PASSWORD)
    patient = make_patient(app, owner)
    sign_in(client, owner.email)
    base = f"/account/patients/{patient.id}/imports/uploads"
    tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    assert client.post(base, headers=tus).status_code == 400  # no CSRF token
    token = csrf_token(client, f"/account/patients/{patient.id}/imports")
    r = client.post(base, headers={**tus, "X-CSRFToken": token})
    assert r.status_code == 201 and r.headers["Tus-Resumable"] == "1.0.0"
    url = r.headers["Location"]
    piece = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    assert client.patch(url, headers=piece, data=b"x" * 4).status_code == 400  # no CSRF token
    r = client.patch(url, headers={**piece, "X-CSRFToken": token}, data=b"x" * 4)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "4"
    assert client.head(url, headers={"Tus-Resumable": "1.0.0"}).headers["Upload-Offset"] == "4"

    client.post("/signout", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, other.email)
    token = csrf_token(client, "/account")
    assert client.head(url, headers={"Tus-Resumable": "1.0.0"}).status_code == 404
    assert client.patch(url, headers={**piece, "Upload-Offset": "4", "X-CSRFToken": token},
                        data=b"x").status_code == 404
    assert client.delete(url, headers={"Tus-Resumable": "1.0.0", "X-CSRFToken": token}).status_code == 404
    assert client.post(base, headers={**tus, "X-CSRFToken": token}).status_code == 404
