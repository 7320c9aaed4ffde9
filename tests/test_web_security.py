"""The pages' security: session cookie flags, CSRF, CSP and headers, HTML errors,
and the rule that the JSON API never accepts the browser's cookie."""
import re

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def csrf_token(client, path="/signin"):
    html = client.get(path, headers=HTML).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, email, password="correct horse battery"):
    r = client.post("/signin/password", data={"email": email, "password": password,
                                              "csrf_token": csrf_token(client)})
    assert r.status_code == 302, r.get_data(as_text=True)
    return r


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.test", password="correct horse battery")


def session_cookie(response):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("avycenna_session="))


def test_session_cookie_is_httponly_secure_samesite_lax(client, member):
    cookie = session_cookie(sign_in(client, member.email))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_secure_flag_can_be_turned_off_for_plain_http_lan(app_config, make_user):
    from avycenna import create_app

    app_config["SESSION_COOKIE_SECURE"] = False
    client = create_app(app_config).test_client()
    user = make_user(password="correct horse battery")
    assert "Secure" not in session_cookie(sign_in(client, user.email))


def test_signed_in_browser_session_is_not_accepted_by_the_api(client, member):
    sign_in(client, member.email)
    assert client.get("/account", headers=HTML).status_code == 200
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.get_json() == {"detail": "Authentication required."}


def test_form_without_csrf_token_is_rejected(client, member):
    r = client.post("/signin/password", data={"email": member.email, "password": "correct horse battery"})
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert "This form has expired" in r.get_data(as_text=True)
    assert "avycenna_session=" not in "".join(r.headers.getlist("Set-Cookie")).replace(
        "avycenna_session=;", "")


def test_form_with_another_sessions_token_is_rejected(app, client, member):
    other = app.test_client()
    sign_in(client, member.email)
    r = client.post("/account/keys", data={"name": "k", "csrf_token": csrf_token(other)})
    assert r.status_code == 400


def test_api_is_not_subject_to_csrf(client, member):
    r = client.post("/api/v1/auth/login", json={"email": member.email, "password": "correct horse battery"})
    assert r.status_code == 200


def test_pages_send_csp_and_security_headers(client):
    r = client.get("/signin", headers=HTML)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "img-src 'self' data:" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client, member):
    sign_in(client, member.email)
    for path in ("/signin", "/account", "/account/keys"):
        html = client.get(path, headers=HTML).get_data(as_text=True)
        assert "<style" not in html and " style=" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/' in tag, (path, tag)
        assert "http://" not in html and "https://" not in html, path


def test_page_requires_sign_in_and_comes_back_after(client, member):
    r = client.get("/account/keys", headers=HTML)
    assert r.status_code == 302 and r.headers["Location"].startswith("/signin?next=/account/keys")
    r = client.post("/signin/password", data={"email": member.email, "password": "correct horse battery",
                                              "next": "/account/keys", "csrf_token": csrf_token(client)})
    assert r.headers["Location"] == "/account/keys"


def test_next_never_leaves_the_site(client, member):
    r = client.post("/signin/password", data={"email": member.email, "password": "correct horse battery",
                                              "next": "//evil.example/x", "csrf_token": csrf_token(client)})
    assert r.headers["Location"] == "/"


def test_wrong_password_is_shown_next_to_the_field(client, member):
    r = client.post("/signin/password", data={"email": member.email, "password": "nope",
                                              "csrf_token": csrf_token(client)})
    assert r.status_code == 401
    html = r.get_data(as_text=True)
    assert 'id="f-password-error"' in html and "Incorrect e-mail or password." in html


def test_disabled_account_is_signed_out_of_the_pages(client, member):
    from avycenna.auth.models import User

    sign_in(client, member.email)
    User.update(is_active=False).where(User.id == member.id).execute()
    assert client.get("/account", headers=HTML).status_code == 302


def test_member_gets_an_html_403_on_the_console(client, member):
    sign_in(client, member.email)
    r = client.get("/console", headers=HTML)
    assert r.status_code == 403 and r.mimetype == "text/html"
    assert "Content-Security-Policy" in r.headers


def test_unknown_page_is_html_for_browsers_and_json_for_api_clients(client):
    r = client.get("/no-such-page", headers=HTML)
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "Page not found" in r.get_data(as_text=True)
    assert r.headers["X-Frame-Options"] == "DENY"
    r = client.get("/api/v1/no-such-thing", headers=HTML)
    assert r.status_code == 404 and r.get_json() == {"detail": "Not found."}
    assert client.get("/no-such-page").get_json() == {"detail": "Not found."}


def test_sign_out_ends_the_session(client, member):
    sign_in(client, member.email)
    token = csrf_token(client, "/account")
    assert client.post("/signout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account", headers=HTML).status_code == 302
