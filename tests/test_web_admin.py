"""Admin pages: accounts (create a clinician, disable, enable)."""
import pytest

from tests.test_web_security import HTML, csrf_token, sign_in


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", email="boss@example.test", password="correct horse battery")


def test_admin_creates_a_clinician_and_disables_a_member(app, client, admin, make_user):
    member = make_user(email="m@example.test", password="correct horse battery")
    member_browser = app.test_client()
    sign_in(member_browser, member.email)
    sign_in(client, admin.email)
    token = csrf_token(client, "/admin/users")
    r = client.post("/admin/users", data={"email": "doc@example.test", "name": "Dr. Chen",
                                          "role": "clinician", "csrf_token": token})
    assert r.status_code == 302
    html = client.get("/admin/users", headers=HTML).get_data(as_text=True)
    assert "doc@example.test" in html and "Dr. Chen" in html

    r = client.post(f"/admin/users/{member.id}/active", data={"active": "false", "csrf_token": token})
    assert r.status_code == 302
    assert "disabled and signed out" in client.get("/admin/users", headers=HTML).get_data(as_text=True)
    assert member_browser.get("/account", headers=HTML).status_code == 302  # signed out at once


def test_duplicate_email_error_is_next_to_the_field(client, admin, make_user):
    make_user(email="taken@example.test")
    sign_in(client, admin.email)
    r = client.post("/admin/users", data={"email": "taken@example.test", "role": "clinician",
                                          "csrf_token": csrf_token(client, "/admin/users")})
    assert r.status_code == 422
    assert "An account with this e-mail already exists." in r.get_data(as_text=True)
    r = client.post("/admin/users", data={"email": "x@example.test", "role": "wizard",
                                          "csrf_token": csrf_token(client, "/admin/users")})
    assert r.status_code == 422 and 'id="new-role-error"' in r.get_data(as_text=True)


def test_admin_pages_are_for_admins_only(client, make_user):
    clinician = make_user(role="clinician", password="correct horse battery")
    sign_in(client, clinician.email)
    assert client.get("/admin/users", headers=HTML).status_code == 403


def test_staff_pages_fit_a_phone(phone, admin):
    from tests.web_fixtures import no_horizontal_scroll, sign_in_with_password

    sign_in_with_password(phone, admin.email, "correct horse battery")
    phone.wait_for_url("**/console")  # staff land on the console
    for path in ("/console", "/console/patients", "/admin/users", "/admin/id-verifications", "/admin/invoices"):
        phone.goto(path)
        assert no_horizontal_scroll(phone), path
