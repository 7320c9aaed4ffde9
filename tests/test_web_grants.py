"""Grants in real browsers: a clinician asks, the account holder accepts for a patient in the
dashboard, and the clinician's console draws the patient's wearable charts."""
from datetime import datetime, timedelta, timezone

import requests

from tests.web_fixtures import no_horizontal_scroll, screenshot, sign_in_with_password

PASSWORD = "correct horse battery"


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
    me.click("button:has-text('Accept')")
    me.wait_for_selector("text=Access given.")

    doc.goto("/console/patients")
    doc.click("text=Ana Diaz")
    for chart in ("heart_rate", "steps", "sleep", "blood_pressure", "blood_glucose"):
        svg = doc.locator(f"svg#chart-{chart}")
        assert svg.count() == 1, chart
        assert svg.locator("title").text_content().startswith(("Heart", "Steps", "Sleep", "Blood"))
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
    assert "Dr. Sarah Chen" in me.inner_text("main") and "wearables.summary.read" in me.inner_text("main")
    me.goto("/account/grants")
    me.click("button:has-text('Revoke access')")
    me.wait_for_selector("text=Access revoked")
    response = doc.goto(f"/console/patients/{patient['id']}")
    assert response.status == 404
