"""Browser-test fixtures: the app served live by waitress, and headless Chromium.

Chromium is Debian's /usr/bin/chromium (installed by `make test`), driven by the
`playwright` package; `playwright install` is never needed.
"""
import os
import threading

import pytest

CHROMIUM = os.environ.get("AVYCENNA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Screenshots of what the browser tests check go to tests/artifacts/ (ignored by git); the
# documentation's own are made by docs/screenshots/take.py.
ROOT = os.path.dirname(os.path.dirname(__file__))
SCREENSHOTS = os.path.join(ROOT, "tests", "artifacts")


class LiveServer:
    """`app` served by waitress on a free loopback port in a background thread."""

    def __init__(self, app):
        from argparse import Namespace

        from avycenna.serve import listen

        # As `python app.py` listens: waitress with the server's own body limit.
        self.server = listen(app, Namespace(host="127.0.0.1", port=0, threads=4))
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        from waitress import wasyncore

        # Close every channel from inside the server's own loop, which then ends. Now and then
        # (about one run in ten) the trigger's pipe is already closed when a test ends; then
        # close them from here: the loop finds its map empty and ends all the same.
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        except OSError:
            wasyncore.close_all(self.server._map, ignore_all=True)
        self.thread.join(10)
        self.server.task_dispatcher.shutdown()


@pytest.fixture
def live_server(app):
    """The app on http://127.0.0.1:<port>; its links (checkout_url) point there too."""
    server = LiveServer(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (own cookies) opening pages on the live server; desktop size."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A 375-px-wide phone tab."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def tabs(browser, live_server):
    """tabs(phone=False) → a new tab with its own cookies (another person); all closed after."""
    contexts = []

    def open_tab(phone=False):
        size = {"width": 375, "height": 740} if phone else {"width": 1200, "height": 900}
        context = browser.new_context(base_url=live_server.url, viewport=size, is_mobile=phone,
                                      has_touch=phone, device_scale_factor=2 if phone else 1)
        contexts.append(context)
        return context.new_page()
    yield open_tab
    for context in contexts:
        context.close()


def screenshot(page, name):
    """Save a full-page screenshot as <name>.png (see SCREENSHOTS)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, name + ".png"), full_page=True)


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_in_by_code(page, mailbox, email, start="/signin"):
    """Sign in through the e-mail code form, reading the code from the loopback mailbox."""
    import re

    if start:
        page.goto(start)
    page.fill("#f-email", email)
    page.click("text=E-mail me a code")
    page.wait_for_selector("#f-otp")
    code = re.search(r"\b(\d{6})\b", mailbox.last_body(email)).group(1)
    page.fill("#f-otp", code)
    page.click("form[action='/signin/verify'] button[type=submit]")


def sign_in_with_password(page, email, password):
    page.goto("/signin")
    page.wait_for_selector("details.password-signin summary")
    page.click("details.password-signin summary")
    page.fill("#pw-email", email)
    page.fill("#f-password", password)
    page.click("form[action='/signin/password'] button[type=submit]")
