"""The account dashboard in a real browser: sign in, mint an API key, use it, delete it."""
import re

import requests

from tests.web_fixtures import no_horizontal_scroll, screenshot, sign_in_by_code, sign_in_with_password

PASSWORD = "correct horse battery"


def test_mint_an_api_key_from_the_dashboard_and_use_it(page, live_server, mailbox):
    sign_in_by_code(page, mailbox, "keys@example.test")  # the first code signs the address up
    page.wait_for_url("**/account")
    page.click("text=API keys")
    page.fill("#f-name", "my agent")
    page.click("text=Create key")

    key = page.input_value("#new-key-value")
    assert re.fullmatch(r"avk_\S+", key)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.click("button[data-copy=new-key-value]")
    page.wait_for_selector("#new-key-value-status:has-text('Copied')")

    me = requests.get(live_server.url + "/api/v1/auth/me", headers={"X-API-Key": key}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == "keys@example.test"

    assert page.url == live_server.url + "/account/keys"  # post/redirect/get
    page.reload()  # a reload mints nothing and never shows the key again
    assert key not in page.content()
    assert page.locator("td", has_text="my agent").count() == 1
    page.click("table button:has-text('Delete')")
    page.wait_for_selector("text=The key is deleted")
    gone = requests.get(live_server.url + "/api/v1/auth/me", headers={"X-API-Key": key}, timeout=10)
    assert gone.status_code == 401


def test_empty_key_name_error_sits_next_to_the_field(page, make_user):
    user = make_user(password=PASSWORD)
    sign_in_with_password(page, user.email, PASSWORD)
    page.goto("/account/keys")
    page.click("text=Create key")
    error = page.locator("#f-name-error")
    assert error.is_visible()
    assert page.get_attribute("#f-name", "aria-describedby").endswith("f-name-error")


def test_dashboard_fits_a_phone(phone, make_user):
    user = make_user(password=PASSWORD)
    sign_in_with_password(phone, user.email, PASSWORD)
    phone.wait_for_url("**/account")
    assert no_horizontal_scroll(phone)
    for path in ("/account/keys", "/account/patients/new", "/account/grants", "/account/encounters",
                 "/account/billing"):
        phone.goto(path)
        assert no_horizontal_scroll(phone), path


def test_sign_in_by_keyboard_alone_with_a_visible_focus(page, mailbox):
    page.goto("/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-email":
            break
    assert page.evaluate("document.activeElement.id") == "f-email"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.type("keyboard@example.test")
    page.keyboard.press("Enter")
    page.wait_for_selector("#f-otp")
    assert page.evaluate("document.activeElement.id") == "f-otp"  # the code field has the focus
    code = re.search(r"\b(\d{6})\b", mailbox.last_body("keyboard@example.test")).group(1)
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url("**/account")


def test_key_name_over_the_api_limit_is_a_field_error(client, make_user):
    from tests.test_web_security import csrf_token, sign_in

    sign_in(client, make_user(password=PASSWORD).email)
    token = csrf_token(client, "/account/keys")
    r = client.post("/account/keys", data={"name": "k" * 500, "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'maxlength="100"' in html
    assert '<p class="error" id="f-name-error">At most 100 characters.</p>' in html
    r = client.post("/account/keys", data={"name": "", "csrf_token": token})
    assert '<p class="error" id="f-name-error">This field is required.</p>' in r.get_data(as_text=True)


def test_pages_link_a_local_favicon_and_favicon_ico_finds_it(client):
    from tests.test_web_security import HTML

    html = client.get("/signin", headers=HTML).get_data(as_text=True)
    assert '<link rel="icon" href="/static/web/favicon.svg"' in html
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith("/static/web/favicon.svg")
    with client.get("/static/web/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_table_buttons_keep_whole_words_on_a_phone(phone, make_user, key_for):
    user = make_user(password=PASSWORD)
    key_for(user)
    sign_in_with_password(phone, user.email, PASSWORD)
    phone.wait_for_url("**/account")
    phone.goto("/account/keys")
    button = phone.locator("table button:has-text('Delete')")
    height, line = button.evaluate("b => [b.getBoundingClientRect().height - parseFloat(getComputedStyle(b).paddingTop)"
                                   " - parseFloat(getComputedStyle(b).paddingBottom) - 2,"
                                   " parseFloat(getComputedStyle(b).lineHeight)]")
    assert height <= line * 1.1, (height, line)  # one line: "Delete", not "De/let/e"
    # The table scrolls inside its box; the page stays 375 px wide (a phone widens it otherwise).
    assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [375, 375]
    screenshot(phone, "keys-phone")
