"""Sign-in budgets are one for the API and the sign-in page together: e-mail codes per address
and per client IP, failed password sign-ins per account (a clear 429 with Retry-After)."""
import pytest

from tests.test_web_security import csrf_token

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config(app_config):
    app_config.update(RATELIMIT_OTP_EMAIL="3/hour", RATELIMIT_OTP_IP="4/hour", RATELIMIT_LOGIN_ACCOUNT="3/hour")
    return app_config


def api_send(client, email, ip="127.0.0.1"):
    return client.post("/api/v1/auth/otp/send", json={"email": email}, environ_base={"REMOTE_ADDR": ip})


def page_send(client, email, ip="127.0.0.1"):
    token = csrf_token(client)
    return client.post("/signin/code", data={"email": email, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})


def test_code_sends_per_address_are_one_budget_for_api_and_page(client, mailbox):
    assert api_send(client, "pat@example.test", "127.0.0.2").status_code == 202
    assert page_send(client, "pat@example.test", "127.0.0.3").status_code == 302
    assert api_send(client, "PAT@example.test", "127.0.0.4").status_code == 202
    assert page_send(client, "pat@example.test", "127.0.0.5").status_code == 429
    r = api_send(client, "pat@example.test", "127.0.0.6")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "detail" in r.get_json()
    assert len(mailbox.to("pat@example.test")) == 3


def test_code_sends_per_client_ip_are_one_budget_for_api_and_page(client, mailbox):
    for i in range(2):
        assert api_send(client, f"a{i}@example.test").status_code == 202
        assert page_send(client, f"b{i}@example.test").status_code == 302
    assert page_send(client, "c@example.test").status_code == 429
    assert api_send(client, "d@example.test").status_code == 429
    assert api_send(client, "d@example.test", "127.0.0.8").status_code == 202  # another address's own budget


def api_login(client, email, password, ip):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def page_login(client, email, password, ip):
    token = csrf_token(client)
    return client.post("/signin/password", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def test_failed_password_sign_ins_are_limited_per_account_across_api_and_page(client, make_user):
    user = make_user(email="doc@clinic.test", password=PASSWORD)
    other = make_user(email="other@clinic.test", password=PASSWORD)
    # A right password does not count; wrong ones do, from any address, on either surface.
    assert api_login(client, user.email, PASSWORD, "127.0.0.2").status_code == 200
    assert api_login(client, user.email, "wrong one", "127.0.0.3").status_code == 401
    assert page_login(client, user.email, "wrong two", "127.0.0.4").status_code == 401
    assert api_login(client, "DOC@clinic.test", "wrong three", "127.0.0.5").status_code == 401
    r = api_login(client, user.email, PASSWORD, "127.0.0.6")  # even the right password waits now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json() == {"detail": "Rate limit exceeded: too many failed password sign-ins for this "
                                      "account; wait, or sign in by e-mail code."}
    page = page_login(client, user.email, PASSWORD, "127.0.0.7")
    assert page.status_code == 429 and page.mimetype == "text/html" and int(page.headers["Retry-After"]) >= 1
    assert api_login(client, other.email, PASSWORD, "127.0.0.8").status_code == 200  # other accounts are not held
