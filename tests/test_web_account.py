"""The account dashboard in a real browser: sign in, mint an API key, use it, delete it."""
import re

import requests

from tests.web_fixtures import no_horizontal_scroll, sign_in_by_code, sign_in_with_password

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

    page.goto("/account/keys")  # the key is never shown again
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
