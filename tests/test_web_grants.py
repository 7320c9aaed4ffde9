"""Grants in real browsers: a clinician asks, the account holder accepts for a patient in the
dashboard, and the clinician's console draws the patient's wearable charts."""
import json
from datetime import datetime, timedelta, timezone

import requests

from tests.web_fixtures import no_horizontal_scroll, screenshot, sign_in_with_password

PASSWORD = "correct horse battery"
CHARTS = {"heart_rate": "Heart rate", "resting_heart_rate": "Resting heart rate",
          "heart_rate_variability": "Heart rate variability", "oxygen_saturation": "Blood oxygen",
          "respiratory_rate": "Respiratory rate", "body_temperature": "Body temperature", "body_weight": "Weight",
          "steps": "Steps", "sleep": "Sleep", "blood_pressure": "Blood pressure", "blood_glucose": "Blood glucose"}


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def week_of_samples(now):
    samples = []
    for day in range(6, -1, -1):
        base = (now - timedelta(days=day)).replace(hour=8, minute=0, second=0, microsecond=0)
        if base > now:
            base -= timedelta(days=1)
        samples += [{"type": "heart_rate", "start": iso(base + timedelta(minutes=10 * i)), "value": 60 + day + i,
                     "unit": "count/min"} for i in range(6)]
        samples.append({"type": "steps", "start": iso(base), "end": iso(base + timedelta(minutes=30)),
                        "value": 4000 + 500 * day, "unit": "count"})
        samples.append({"type": "blood_pressure", "start": iso(base), "unit": "mmHg",
                        "value": {"systolic": 118 + day, "diastolic": 76 + day}})
        samples.append({"type": "blood_glucose", "start": iso(base), "value": 90 + 3 * day, "unit": "mg/dL"})
        samples += [{"type": kind, "start": iso(base), "value": value, "unit": unit} for kind, value, unit in (
            ("resting_heart_rate", 58 + day, "count/min"), ("heart_rate_variability", 45 + day, "ms"),
            ("oxygen_saturation", 97 - day % 2, "%"), ("respiratory_rate", 14 + day % 3, "count/min"),
            ("body_temperature", 36.6 + day / 20, "degC"), ("body_weight", 70.5 - day / 10, "kg"))]
        night = base - timedelta(hours=8)
        samples.append({"type": "sleep", "start": iso(night), "end": iso(night + timedelta(hours=7)),
                        "value": "light"})
    return samples


def test_accept_a_grant_and_the_clinician_sees_charts(live_server, tabs, make_user, key_for, token_for):
    holder = make_user(email="holder@example.test", password=PASSWORD)
    make_user(role="clinician", email="doc@example.test", password=PASSWORD, name="Dr. Sarah Chen")
    key = key_for(holder)
    patient = requests.post(live_server.url + "/api/v1/patients", headers=key, timeout=10,
                            json={"name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).json()
    sent = requests.post(f"{live_server.url}/api/v1/patients/{patient['id']}/wearables", headers=key, timeout=10,
                         json={"source": "apple_watch", "samples": week_of_samples(datetime.now(timezone.utc))})
    assert sent.status_code == 200, sent.text

    doc = tabs()
    sign_in_with_password(doc, "doc@example.test", PASSWORD)
    doc.goto("/console/patients")
    doc.fill("#grant-email", "holder@example.test")
    doc.fill("#grant-message", "To follow your blood pressure between visits.")
    doc.click("text=Send request")
    doc.wait_for_selector("text=Request sent")

    me = tabs(phone=True)
    sign_in_with_password(me, "holder@example.test", PASSWORD)
    me.wait_for_selector("text=1 clinician request for access")
    me.click("text=1 clinician request for access")
    assert "To follow your blood pressure" in me.inner_text("main")
    assert no_horizontal_scroll(me)
    assert me.input_value("select[name=patient_id]") == ""  # nobody is chosen for the holder
    me.select_option("select[name=patient_id]", label="Ana Diaz (Myself)")
    me.click("button:has-text('Accept')")
    me.wait_for_selector("text=Access given.")

    doc.goto("/console/patients")
    doc.click("text=Ana Diaz")
    for chart, title in CHARTS.items():
        svg = doc.locator(f"svg#chart-{chart}")
        assert svg.count() == 1, chart
        assert svg.locator("title").text_content().startswith(title)
    assert doc.locator("svg#chart-heart_rate polyline.series").count() == 1
    assert doc.locator("svg#chart-blood_pressure polyline.series-2").count() == 1
    assert doc.locator("svg#chart-steps rect.bar").count() >= 6
    screenshot(doc, "console-charts")
    doc.select_option("#range", "24h")
    doc.click("text=Show")
    doc.wait_for_url("**range=24h")
    assert doc.locator("svg#chart-heart_rate circle.dot").count() >= 1

    # The holder sees who read the data, then revokes: the charts are gone at once.
    me.goto(f"/account/patients/{patient['id']}/access-log")
    log = me.inner_text("main")
    assert "Dr. Sarah Chen (clinician), doc@example.test" in log and "Read wearable summary" in log
    assert "wearables.summary.read" not in log and "an account" not in log
    me.goto("/account/grants")
    me.click("button:has-text('Revoke access')")
    me.wait_for_selector("text=Access revoked")
    response = doc.goto(f"/console/patients/{patient['id']}")
    assert response.status == 404


def test_access_log_names_readers_and_hides_the_holders_own_reads(app, client, make_user, token_for):
    from tests.test_web_security import HTML, csrf_token, sign_in

    holder = make_user(email="holder@example.test", password=PASSWORD)
    doc = make_user(role="clinician", email="doc@example.test", name="Dr. Sarah Chen")
    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(holder), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.get("/api/v1/patients", headers=token_for(holder))
    grant = api.post("/api/v1/grants", headers=token_for(doc), json={
        "email": holder.email, "scopes": ["wearables"]}).get_json()
    sign_in(client, holder.email)
    token = csrf_token(client, "/account/grants")
    grants_page = client.get("/account/grants", headers=HTML).get_data(as_text=True)
    assert '<option value="" selected>Choose a patient</option>' in grants_page
    assert grants_page.count("doc@example.test") == 1 and "Dr. Sarah Chen" in grants_page
    r = client.post(f"/account/grants/{grant['id']}/accept", data={"patient_id": "", "csrf_token": token})
    assert "Choose a patient to give access to." in client.get(r.headers["Location"], headers=HTML).get_data(as_text=True)
    client.post(f"/account/grants/{grant['id']}/accept", data={"patient_id": pid, "csrf_token": token})
    api.get(f"/api/v1/patients/{pid}/wearables/summary?type=steps&bucket=day", headers=token_for(doc))

    html = client.get(f"/account/patients/{pid}/access-log", headers=HTML).get_data(as_text=True)
    assert "Dr. Sarah Chen (clinician), doc@example.test" in html and "Read wearable summary" in html
    assert "<td>you</td>" in html and "Added the patient" in html and "Access given" in html  # the holder's changes stay
    assert "Listed patients" not in html and "an account" not in html and "wearables.summary.read" not in html
    mine = client.get(f"/account/patients/{pid}/access-log?mine=1", headers=HTML).get_data(as_text=True)
    assert "Listed patients" in mine and "Hide my own reads" in mine

    entries = api.get(f"/api/v1/patients/{pid}/access-log", headers=token_for(holder)).get_json()["data"]
    read = next(e for e in entries if e["action"] == "wearables.summary.read")
    assert (read["actor_name"], read["actor_email"], read["actor_role"]) == ("Dr. Sarah Chen", "doc@example.test",
                                                                              "clinician")


def test_a_chart_page_view_is_one_access_log_row(app, client, make_user, token_for):
    from tests.factories import audit_events
    from tests.test_web_security import HTML, sign_in

    holder = make_user(email="holder@example.test")
    doc = make_user(role="clinician", email="doc@example.test", password=PASSWORD, name="Dr. Sarah Chen")
    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(holder), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.post(f"/api/v1/patients/{pid}/wearables", headers=token_for(holder),
             json={"source": "apple_watch", "samples": week_of_samples(datetime.now(timezone.utc))})
    grant = api.post("/api/v1/grants", headers=token_for(doc), json={
        "email": holder.email, "scopes": ["wearables"]}).get_json()
    api.post(f"/api/v1/grants/{grant['id']}/accept", headers=token_for(holder), json={"patient_id": pid})
    sign_in(client, doc.email)
    for _ in range(2):
        html = client.get(f"/console/patients/{pid}", headers=HTML).get_data(as_text=True)
        assert all(f'id="chart-{chart}"' in html for chart in CHARTS)
    reads = audit_events(app, action="wearables.summary.read")
    assert len(reads) == 2  # one per view, not one per chart
    details = json.loads(reads[0].details) if isinstance(reads[0].details, str) else reads[0].details
    assert details["grant_id"] == grant["id"] and set(details["types"]) >= set(CHARTS)
    log = api.get(f"/api/v1/patients/{pid}/access-log", headers=token_for(holder)).get_json()["data"]
    assert [e["action"] for e in log].count("wearables.summary.read") == 2
