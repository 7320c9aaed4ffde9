"""The whole journey in real browsers: an agent's checkout_url opened on a phone, the
clinic's staff clearing ID and payment, the clinician answering in the console, and the
answer arriving at the agent's chat endpoint."""
import re
from datetime import datetime, timedelta

import requests

from tests.web_fixtures import no_horizontal_scroll, screenshot, sign_in_by_code, sign_in_with_password

PASSWORD = "correct horse battery"
QUERY = ("My daughter (7) has had a fever of 38.5 C for two days, a sore throat and swollen glands "
         "on both sides of the neck. No rash, drinking well, a little tired. She had her vaccinations "
         "on schedule. Ibuprofen brings the fever down for about six hours. Her brother had a cold "
         "last week. Should she be seen in person, is a strep test needed, and what should we watch "
         "for overnight? We are in the clinic's area and can come in tomorrow morning if needed. "
         "She has no allergies that we know of and takes no other medicine.")


def agent(live_server, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, live_server.url + path, headers=headers, timeout=10, **kwargs)


def test_checkout_to_clinician_answer_to_agent(live_server, tabs, mailbox, make_user):
    make_user(role="admin", email="boss@example.test", password=PASSWORD)
    make_user(role="clinician", email="doc@example.test", password=PASSWORD, name="Dr. Sarah Chen")

    # The agent opens an encounter with no credentials and hands the person the link.
    opened = agent(live_server, "POST", "/api/v1/agent/query", json={"query": QUERY})
    assert opened.status_code in (200, 201), opened.text
    encounter_id, token = opened.json()["encounter_id"], opened.json()["encounter_token"]
    checkout_url = opened.json()["checkout_url"]
    assert checkout_url.startswith(live_server.url + "/checkout/")

    # The person, on a phone: sees the question, signs in by e-mail code, adds the patient.
    phone = tabs(phone=True)
    phone.goto(checkout_url)
    assert "swollen glands" in phone.inner_text(".query")
    assert no_horizontal_scroll(phone)
    sign_in_by_code(phone, mailbox, "parent@example.test", start=None)
    phone.wait_for_selector("#step-patient")
    phone.fill("#p-name", "Mia Lopez")
    phone.fill("#p-date_of_birth", "2019-04-02")
    phone.select_option("#p-relationship", "child")
    phone.click("text=Add and choose")

    # Consent: the text and its version are shown, and recorded.
    phone.wait_for_selector("#step-consent")
    version = phone.input_value("#step-consent input[name=version]")
    assert version in phone.inner_text("#step-consent")
    phone.check("#step-consent input[name=agree]")
    phone.click("#step-consent button[type=submit]")
    phone.wait_for_selector("#step-consent .badge.ok")

    # ID verification: sent, then pending with the clinic.
    phone.select_option("#id-document_type", "passport")
    phone.fill("#id-document_number", "X12345678")
    phone.click("text=Send for verification")
    phone.wait_for_selector("#step-id >> text=Pending with the clinic")
    assert "Pay once" in phone.inner_text("#step-payment")
    assert no_horizontal_scroll(phone)
    screenshot(phone, "checkout")

    phone.click("#submit-checkout")
    phone.wait_for_selector("text=Checkout complete")
    done = phone.inner_text("main")
    assert "ID" in done and "One-off encounter" in done and "staff mark" in done

    # Clinic staff: approve the ID, mark the one-off invoice paid → the encounter is submitted.
    admin = tabs()
    sign_in_with_password(admin, "boss@example.test", PASSWORD)
    admin.goto("/admin/id-verifications")
    assert "Mia Lopez" in admin.inner_text("main") and "*****5678" in admin.inner_text("main")
    admin.click("button:has-text('Approve')")
    admin.wait_for_selector("text=ID approved.")
    admin.goto("/admin/invoices")
    admin.click("tr:has-text('parent@example.test') button:has-text('Mark paid')")
    admin.wait_for_selector("text=is marked paid")
    assert agent(live_server, "GET", f"/api/v1/agent/encounters/{encounter_id}", token).json()["status"] == "submitted"
    phone.reload()
    assert "Sent to the clinic" in phone.inner_text("main")

    # The clinician: queue, take, read, ask the agent, get its reply, answer.
    doc = tabs()
    sign_in_with_password(doc, "doc@example.test", PASSWORD)
    doc.goto("/console")
    link = doc.locator(f"a[href='/console/encounters/{encounter_id}']")
    assert link.inner_text().startswith("“My daughter (7) has had a fever") and "enc_" not in doc.inner_text("main")
    link.click()
    doc.click("text=Take this encounter")
    doc.wait_for_selector("#patient-h")
    assert "Mia Lopez" in doc.inner_text("main") and "swollen glands" in doc.inner_text("main")
    doc.fill("#message-body", "Has she had any trouble swallowing or breathing?")
    doc.check("#asks-agent")
    doc.click("text=Send message")
    doc.wait_for_selector("text=question for the agent")

    messages = agent(live_server, "GET", f"/api/v1/agent/encounters/{encounter_id}/messages", token).json()["data"]
    question = next(m for m in messages if m["asks_agent"])
    reply = agent(live_server, "POST", f"/api/v1/agent/encounters/{encounter_id}/messages", token,
                  json={"body": "No trouble swallowing or breathing.", "reply_to": question["id"]})
    assert reply.status_code in (200, 201), reply.text
    doc.reload()
    assert "No trouble swallowing or breathing." in doc.inner_text("#messages")

    doc.fill("#answer-body", "Likely viral pharyngitis; a rapid strep test tomorrow morning is reasonable. "
                             "Seek care tonight if she drools, cannot swallow or breathes noisily.")
    screenshot(doc, "console")
    doc.click("text=Send answer")
    doc.wait_for_selector("text=Answer sent")

    # The answer arrives where the agent polls.
    after = agent(live_server, "GET", f"/api/v1/agent/encounters/{encounter_id}/messages", token,
                  params={"after": question["id"]}).json()["data"]
    answer = next(m for m in after if m["is_answer"])
    assert "rapid strep test" in answer["body"]
    assert agent(live_server, "GET", f"/api/v1/agent/encounters/{encounter_id}", token).json()["status"] == "answered"

    doc.fill("#close-summary", "Advised strep test; safety-net advice given.")
    doc.click("text=Close encounter")
    doc.wait_for_selector("text=Closed.")
    phone.reload()
    assert "Answered" in phone.inner_text("h1")


def test_unknown_and_expired_links_show_a_clear_page(page, live_server, make_user):
    import time_machine

    page.goto("/checkout/" + "0" * 64)
    assert "not valid" in page.inner_text("h1")
    assert page.locator(".query").count() == 0

    opened = agent(live_server, "POST", "/api/v1/agent/query", json={"query": QUERY}).json()
    expires = datetime.fromisoformat(opened["encounter_token_expires_at"].replace("Z", "+00:00"))
    with time_machine.travel(expires + timedelta(minutes=1), tick=True):
        response = page.goto(opened["checkout_url"])
        assert response.status == 409
        assert "expired" in page.inner_text("h1")


def test_checkout_page_fits_a_phone_signed_out(phone, live_server):
    opened = agent(live_server, "POST", "/api/v1/agent/query", json={"query": QUERY}).json()
    phone.goto(opened["checkout_url"])
    assert phone.locator("#f-email").is_visible()
    assert no_horizontal_scroll(phone)
    assert re.search(r"answer goes back to your assistant", phone.inner_text("main"))


def consented_patient_and_link(app, make_user, token_for):
    """(member, patient id, checkout token): a member whose patient has consent, and an agent's new link."""
    member = make_user(email="m@example.test", password=PASSWORD)
    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(member), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.post(f"/api/v1/patients/{pid}/consent", headers=token_for(member), json={"version": "2026-01"})
    link = api.post("/api/v1/agent/query", json={"query": QUERY}).get_json()["checkout_url"]
    return member, pid, link.rsplit("/", 1)[1]


def test_checkout_steps_by_form(app, client, make_user, token_for):
    """Subscribe from the checkout, submit, and see what is pending; other accounts see nothing."""
    from tests.test_web_security import HTML, csrf_token, sign_in

    member, pid, token = consented_patient_and_link(app, make_user, token_for)
    path = "/checkout/" + token

    sign_in(client, member.email)
    page = client.get(f"{path}?patient={pid}", headers=HTML).get_data(as_text=True)
    assert "Consent given" in page and 'id="submit-checkout"' in page
    token = csrf_token(client, path)
    r = client.post(f"{path}/subscribe", data={"plan": "monthly", "patient_id": pid, "csrf_token": token})
    assert r.status_code == 302
    page = client.get(f"{path}?patient={pid}", headers=HTML).get_data(as_text=True)
    assert "Monthly plan pending" in page

    r = client.post(f"{path}/submit", data={"patient_id": pid, "csrf_token": token})
    done = client.get(r.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "waiting on the clinic" in done and "Payment is open" in done and "send a document" in done
    assert "Monthly plan" in done  # its open invoice is listed

    other = app.test_client()
    sign_in(other, make_user(password=PASSWORD).email)
    r = other.get(path, headers=HTML)
    assert r.status_code == 404 and "swollen glands" not in r.get_data(as_text=True)
    assert client.get("/checkout/not-a-token", headers=HTML).status_code == 404


def test_checkout_id_errors_sit_next_to_the_field_and_steps_follow_state(app, client, make_user, token_for):
    from tests.test_web_security import HTML, csrf_token, sign_in

    member, pid, token = consented_patient_and_link(app, make_user, token_for)
    path = "/checkout/" + token
    sign_in(client, member.email)
    token = csrf_token(client, path)

    r = client.post(f"{path}/id-verification", data={"patient_id": pid, "document_type": "passport",
                                                    "issuing_country": "GB", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="id-document_number"[^>]*aria-invalid="true"', html, re.S)
    assert '<p class="error" id="id-document_number-error">This field is required.</p>' in html
    assert "Missing data for required field" not in html
    assert re.search(r'<option value="passport" selected>', html)  # the answers given are kept
    assert '<li class="current">4. ID</li>' in html and '<li class="">5. Payment</li>' in html

    client.post(f"{path}/id-verification", data={"patient_id": pid, "document_type": "passport",
                                                "document_number": "P998877", "csrf_token": token})
    html = client.get(f"{path}?patient={pid}", headers=HTML).get_data(as_text=True)
    assert '<li class="done">4. ID</li>' in html and '<li class="current">5. Payment</li>' in html
    assert '<li class="">6. Submit</li>' in html


def test_waiting_page_says_what_happens_next_and_anonymous_can_sign_in(app, client, make_user, token_for):
    from tests.test_web_security import HTML, sign_in

    member, pid, token = consented_patient_and_link(app, make_user, token_for)
    app.test_client().post("/api/v1/checkout", headers=token_for(member), json={"encounter_token": token, "patient_id": pid})

    anonymous = app.test_client().get(f"/checkout/{token}", headers=HTML).get_data(as_text=True)
    assert "already used" in anonymous and f'href="/signin?next=/checkout/{token}"' in anonymous
    assert "Sign in to see its status" in anonymous
    sign_in(client, member.email)
    html = client.get(f"/checkout/{token}", headers=HTML).get_data(as_text=True)
    assert "waiting on the clinic" in html and "What happens next" in html
    assert "Your assistant (the agent that sent you here) receives the answer" in html
    assert "Sign in to see its status" not in html
