"""Signing in to the pages by e-mail code: the API's rules and budgets, HTML answers."""
import re

import pytest

from tests.test_web_security import HTML, csrf_token


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_OTP_EMAIL"] = "2/hour"
    return app_config


def send(client, email, token=None):
    return client.post("/signin/code", data={"email": email, "next": "/account/keys",
                                             "csrf_token": token or csrf_token(client)})


def test_code_signs_in_and_returns_to_next(client, mailbox):
    assert send(client, "new@example.test").headers["Location"] == "/signin/code?next=/account/keys"
    page = client.get("/signin/code?next=/account/keys", headers=HTML).get_data(as_text=True)
    assert "new@example.test" in page and 'autocomplete="one-time-code"' in page
    code = re.search(r"\b(\d{6})\b", mailbox.last_body("new@example.test")).group(1)
    r = client.post("/signin/verify", data={"email": "new@example.test", "otp": code,
                                            "next": "/account/keys", "csrf_token": csrf_token(client)})
    assert r.status_code == 302 and r.headers["Location"] == "/account/keys"
    assert client.get("/account/keys", headers=HTML).status_code == 200


def test_wrong_code_is_shown_next_to_the_field(client, mailbox):
    send(client, "new@example.test")
    r = client.post("/signin/verify", data={"email": "new@example.test", "otp": "000000",
                                            "csrf_token": csrf_token(client)})
    html = r.get_data(as_text=True)
    assert r.status_code == 401 and 'id="f-otp-error"' in html and "Invalid or expired code." in html
    r = client.post("/signin/verify", data={"email": "new@example.test", "otp": "12",
                                            "csrf_token": csrf_token(client)})
    assert r.status_code == 422 and "The code is 6 digits." in r.get_data(as_text=True)


def test_code_budget_per_address_is_enforced_with_an_html_page(client, mailbox):
    for _ in range(2):
        assert send(client, "busy@example.test").status_code == 302
    r = send(client, "busy@example.test")
    assert r.status_code == 429 and r.mimetype == "text/html"
    assert "Too many requests" in r.get_data(as_text=True) and int(r.headers["Retry-After"]) > 0
    assert send(client, "other@example.test").status_code == 302


def test_invalid_email_error_sits_next_to_the_field(client):
    r = send(client, "not-an-address")
    assert r.status_code == 422 and 'id="f-email-error"' in r.get_data(as_text=True)
