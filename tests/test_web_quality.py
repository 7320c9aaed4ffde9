"""Every page: each form control has a label, no inline script or style, only local assets."""
import re
from html.parser import HTMLParser

from tests.test_web_checkout import QUERY
from tests.test_web_security import HTML, sign_in

PASSWORD = "correct horse battery"


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls, self.labels, self.open_labels = [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.labels.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, attrs, self.open_labels > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self):
        return [(tag, attrs.get("name")) for tag, attrs, wrapped in self.controls
                if not wrapped and attrs.get("id") not in self.labels and not attrs.get("aria-label")]


def check(client, path):
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, path
    html = r.get_data(as_text=True)
    parser = Controls()
    parser.feed(html)
    assert not parser.unlabelled(), (path, parser.unlabelled())
    assert " style=" not in html and "<style" not in html, path
    for tag in re.findall(r"<script[^>]*>", html):
        assert re.search(r'src="/static/web/[^"]+"', tag), (path, tag)
    assert "http://" not in html and "https://" not in html, path
    return html


def test_every_page_is_labelled_and_self_contained(app, client, make_user, token_for):
    member = make_user(email="m@example.test", password=PASSWORD)
    clinician = make_user(role="clinician", email="doc@example.test", password=PASSWORD)
    admin = make_user(role="admin", email="boss@example.test", password=PASSWORD)
    api = app.test_client()
    pid = api.post("/api/v1/patients", headers=token_for(member), json={
        "name": "Ana Diaz", "date_of_birth": "1980-02-03", "relationship": "self"}).get_json()["id"]
    api.post(f"/api/v1/patients/{pid}/id-verification", headers=token_for(member),
             json={"document_type": "passport", "document_number": "P1234567"})
    api.post("/api/v1/grants", headers=token_for(clinician), json={"email": member.email, "scopes": ["profile"]})
    api.post("/api/v1/subscription", headers=token_for(member), json={"plan": "monthly"})
    opened = api.post("/api/v1/agent/query", json={"query": QUERY}).get_json()
    checkout = "/checkout/" + opened["checkout_url"].rsplit("/", 1)[1]

    check(client, "/signin")
    check(client, checkout)
    sign_in(client, member.email)
    for path in ("/account", "/account/keys", "/account/patients/new", f"/account/patients/{pid}",
                 f"/account/patients/{pid}/access-log", "/account/grants", "/account/encounters",
                 "/account/billing", checkout, f"{checkout}?patient={pid}"):
        check(client, path)
    for user, paths in ((clinician, ("/console", "/console/patients")),
                        (admin, ("/admin/users", "/admin/id-verifications", "/admin/invoices", "/console"))):
        browser = app.test_client()
        sign_in(browser, user.email)
        for path in paths:
            check(browser, path)
