"""The dashboard's Apple Health import page: upload an export.zip, watch the bar reach 100 %."""
import os

import requests

from tests.test_apple_health import INSERTED, export_zip
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
