"""Sign-ins that end: browser sessions (sign-out, sign out everywhere, password change, a disabled
account) end on the next request even for a copied cookie; a password needs fresh proof."""
from datetime import datetime, timedelta

import pytest
import time_machine

from tests.test_web_security import HTML, csrf_token, sign_in
from tests.web_fixtures import sign_in_with_password

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much newer passphrase"


@pytest.fixture
def person(make_user):
    return make_user(email="pat@example.test", password=PASSWORD)


def browser(app, email=None):
    """A test client (its own cookie jar), signed in to the pages when `email` is given."""
    client = app.test_client()
    if email:
        sign_in(client, email)
    return client


def signed_in(client):
    r = client.get("/account", headers=HTML)
    assert r.status_code in (200, 302)
    return r.status_code == 200


def copy_cookie(source, target):
    cookie = source.get_cookie("avycenna_session")
    target.set_cookie(cookie.key, cookie.value, domain=cookie.domain)


def api_login(client, email=None, password=PASSWORD):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def refresh_works(client, tokens):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 200


def test_signing_out_ends_the_session_even_for_a_copy_of_the_cookie(app, person):
    mine, thief = browser(app, person.email), browser(app)
    copy_cookie(mine, thief)
    assert signed_in(thief)
    mine.post("/signout", data={"csrf_token": csrf_token(mine, "/account")})
    assert not signed_in(mine) and not signed_in(thief)


def test_sign_out_everywhere_on_the_page_ends_every_browser_and_refresh_token(app, client, person):
    laptop, phone = browser(app, person.email), browser(app, person.email)
    tokens = api_login(client, person.email)
    r = laptop.post("/account/signout-everywhere", data={"csrf_token": csrf_token(laptop, "/account/security")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/signin")
    assert not signed_in(laptop) and not signed_in(phone)
    assert not refresh_works(client, tokens)
    assert signed_in(browser(app, person.email))  # signing in again works


def test_api_logout_everywhere_ends_browser_sessions_too(app, client, person):
    laptop = browser(app, person.email)
    tokens = api_login(client, person.email)
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"],
                                                    "everywhere": True}).status_code == 204
    assert not signed_in(laptop)


def test_a_disabled_account_stays_signed_out_when_enabled_again(app, client, person, make_user, token_for):
    laptop = browser(app, person.email)
    admin = token_for(make_user(role="admin"))
    url = f"/api/v1/admin/users/{person.id}"
    assert client.patch(url, json={"is_active": False}, headers=admin).status_code == 200
    assert client.patch(url, json={"is_active": True}, headers=admin).status_code == 200
    assert not signed_in(laptop)


def test_changing_the_password_on_the_page_ends_every_other_sign_in(app, client, person):
    here, elsewhere = browser(app, person.email), browser(app, person.email)
    tokens = api_login(client, person.email)
    form = {"old_password": PASSWORD, "password": NEW_PASSWORD, "csrf_token": csrf_token(here, "/account/security")}
    r = here.post("/account/password", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert signed_in(here) and not signed_in(elsewhere) and not refresh_works(client, tokens)
    api_login(client, person.email, NEW_PASSWORD)


def test_the_page_asks_for_the_old_password_once_the_sign_in_is_not_fresh(app, person):
    with time_machine.travel(datetime.now(), tick=False) as clock:
        here = browser(app, person.email)
        clock.shift(timedelta(minutes=6))
        token = csrf_token(here, "/account/security")
        r = here.post("/account/password", data={"password": NEW_PASSWORD, "csrf_token": token})
        assert r.status_code == 422 and "Give your current password" in r.get_data(as_text=True)
        r = here.post("/account/password", data={"password": NEW_PASSWORD, "old_password": "wrong one!",
                                                 "csrf_token": token})
        assert r.status_code == 422 and "Old password is incorrect." in r.get_data(as_text=True)
        r = here.post("/account/password", data={"password": NEW_PASSWORD, "csrf_token": token,
                                                 "old_password": PASSWORD})
        assert r.status_code == 302


# The API ------------------------------------------------------------------------------------

def change(client, headers, **body):
    return client.patch("/api/v1/auth/me", json={"password": NEW_PASSWORD, **body}, headers=headers)


def stale_proof(r):
    """A request the document calls valid, refused for the proof it lacks: 403, not 422."""
    return r.status_code == 403 and r.get_json()["detail"].startswith("Give your current password")


def test_an_api_key_alone_never_sets_or_changes_a_password(client, make_user, key_for, person):
    code_only = make_user()  # signs in by e-mail code; no password yet
    assert stale_proof(change(client, key_for(code_only)))
    assert stale_proof(change(client, key_for(person)))
    assert change(client, key_for(person), old_password=PASSWORD).status_code == 200  # the password proves it
    api_login(client, person.email, NEW_PASSWORD)


def test_a_fresh_sign_in_proves_the_account_and_a_refresh_does_not_make_it_fresh(client, person):
    with time_machine.travel(datetime.now(), tick=False) as clock:
        tokens = api_login(client, person.email)
        clock.shift(timedelta(minutes=6))
        renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).get_json()
        bearer = {"Authorization": "Bearer " + renewed["access_token"]}
        assert stale_proof(change(client, bearer))  # the refresh keeps the sign-in time
        fresh = api_login(client, person.email)
        assert change(client, {"Authorization": "Bearer " + fresh["access_token"]}).status_code == 200


def test_changing_the_password_keeps_the_callers_sign_in_and_ends_the_others(app, client, person):
    mine, other = api_login(client, person.email), api_login(client, person.email)
    laptop = browser(app, person.email)
    assert change(client, {"Authorization": "Bearer " + mine["access_token"]}).status_code == 200
    assert refresh_works(client, mine) and not refresh_works(client, other)
    assert not signed_in(laptop)


# In a real browser ---------------------------------------------------------------------------

def test_password_change_and_sign_out_everywhere_in_two_browsers(tabs, person):
    laptop, phone = tabs(), tabs(phone=True)
    for tab in (laptop, phone):
        sign_in_with_password(tab, person.email, PASSWORD)
        tab.wait_for_selector("h1:has-text('Your account')")
    laptop.click("text=Password and sign-ins")
    laptop.fill("#new-password", NEW_PASSWORD)  # a fresh sign-in: the old password is not needed
    laptop.click("text=Save password")
    laptop.wait_for_selector("text=Every other device is signed out.")
    phone.reload()
    assert phone.url.endswith("/signin?next=/account")
    sign_in_with_password(phone, person.email, NEW_PASSWORD)
    phone.wait_for_selector("h1:has-text('Your account')")
    phone.goto("/account/security")
    phone.click("button:has-text('Sign out everywhere')")
    phone.wait_for_selector("text=You are signed out on every device.")
    laptop.goto("/account")
    assert "/signin" in laptop.url
