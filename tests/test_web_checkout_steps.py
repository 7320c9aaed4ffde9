"""The checkout page on a 375-px phone keeps the person where they were: the chosen patient
is remembered on the link, a form error or consent returns to its step, the price shows
before the payment step, and a very long question does not push the sign-in step away."""
import requests

from tests.agent_helpers import QUERY, add_patient
from tests.web_fixtures import no_horizontal_scroll, sign_in_with_password

PASSWORD = "correct horse battery"


def open_question(live_server, query=QUERY):
    r = requests.post(live_server.url + "/api/v1/agent/query", json={"query": query}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["checkout_url"]


def top_of(page, selector):
    return page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top")


def in_view(page, selector):
    top = top_of(page, selector)
    return -5 <= top < page.viewport_size["height"]


def test_chosen_patient_is_remembered_and_steps_are_returned_to(app, live_server, phone, make_user, key_for):
    member = make_user(email="pat@example.test", password=PASSWORD)
    pid = add_patient(app.test_client(), key_for(member), name="Mia Lopez")
    url = open_question(live_server)
    sign_in_with_password(phone, member.email, PASSWORD)
    phone.wait_for_url("**/account")
    phone.goto(url)
    phone.check(f"input[name=patient][value='{pid}']")
    phone.click("#step-patient button[type=submit]")
    phone.wait_for_selector("#step-consent")
    assert phone.url.endswith("#step-consent") and in_view(phone, "#step-consent")

    # Consent returns to its step, now done.
    phone.check("#step-consent input[name=agree]")
    phone.click("#step-consent button[type=submit]")
    phone.wait_for_selector("#step-consent .badge.ok")
    assert phone.url.endswith("#step-consent") and in_view(phone, "#step-consent")

    # A form error (a document number that cannot be) comes back at the ID step, the error by its field.
    phone.select_option("#id-document_type", "passport")
    phone.select_option("#id-issuing_country", "DE")
    phone.fill("#id-document_number", "!!")
    phone.click("text=Send for verification")
    phone.wait_for_selector("#id-document_number-error")
    assert phone.url.endswith("#step-id") and in_view(phone, "#step-id")
    assert phone.input_value("#id-issuing_country") == "DE"  # kept, and shown by name
    assert "Germany" in phone.inner_text("#id-issuing_country")
    phone.fill("#id-document_number", "X1234567")
    phone.click("text=Send for verification")
    phone.wait_for_selector("#step-id >> text=Pending with the clinic")
    assert "Sent to the clinic" in phone.inner_text("#step-id .flash")  # the message sits in the step returned to
    assert in_view(phone, "#step-id")

    # Reopening the agent's link (no ?patient=) remembers the patient chosen.
    phone.goto(url)
    assert "Telehealth consent for Mia Lopez" in phone.inner_text("#step-consent")
    assert phone.is_checked(f"input[name=patient][value='{pid}']")
    assert no_horizontal_scroll(phone)

    # Another account signed in on the same browser does not get that patient.
    other = make_user(email="other@example.test", password=PASSWORD)
    phone.context.clear_cookies()
    sign_in_with_password(phone, other.email, PASSWORD)
    phone.wait_for_url("**/account")
    phone.goto(url)
    assert phone.locator("#step-consent").count() == 0 and "Mia Lopez" not in phone.inner_text("main")


def test_price_before_payment_and_long_question_collapsed(live_server, phone):
    long_query = ("Since March I have had episodes of palpitations lasting minutes, mostly at rest. " * 120)[:9000]
    phone.goto(open_question(live_server, long_query))
    price = phone.inner_text("#price")
    assert "49.00 USD" in price and "29.00 USD" in price
    assert top_of(phone, "#price") < top_of(phone, "#step-signin")
    assert top_of(phone, "#step-signin") < 2 * phone.viewport_size["height"]  # not 9,000 characters away
    assert phone.locator("details.query-long").count() == 1
    phone.click("details.query-long summary")
    assert long_query[-60:].strip() in phone.inner_text("details.query-long .query")
    assert no_horizontal_scroll(phone)


def test_a_short_question_is_shown_whole(live_server, phone):
    phone.goto(open_question(live_server))
    assert phone.locator("details.query-long").count() == 0
    assert "dry cough for three weeks" in phone.inner_text(".query")
