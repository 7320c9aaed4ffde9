"""The pages refuse the same bad input as the API, with the error next to the field, never a 500."""
import pytest

from tests.test_web_patients import add
from tests.test_web_security import HTML, csrf_token, sign_in


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.test", password="correct horse battery")


@pytest.mark.parametrize("name, error", [("Ann\r\nBcc: x@y.test", "May not contain line breaks or control characters."),
                                         ("\u200b\u200b", "Cannot be blank."),
                                         ("\u2060\ufeff", "Cannot be blank.")])
def test_a_patient_name_with_a_line_break_or_nothing_visible_is_a_field_error(client, member, name, error):
    sign_in(client, member.email)
    r = add(client, name=name)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="p-name-error"' in html and error in html
    assert "Ann" not in client.get("/account/patients", headers=HTML).get_data(as_text=True).split("<main")[-1]


def test_an_api_key_name_with_a_line_break_is_a_field_error(client, member, key_for):
    sign_in(client, member.email)
    r = client.post("/account/keys", data={"name": "my\nkey", "csrf_token": csrf_token(client, "/account/keys")})
    assert r.status_code == 422
    assert "May not contain line breaks or control characters." in r.get_data(as_text=True)


def test_nul_in_a_form_field_is_a_422_page_and_saves_nothing(client, member):
    sign_in(client, member.email)
    r = add(client, name="Ann\x00Lee")
    assert r.status_code == 422 and r.mimetype == "text/html"
    assert "Traceback" not in r.get_data(as_text=True)
    assert "Ann" not in client.get("/account/patients", headers=HTML).get_data(as_text=True).split("<main")[-1]
    r = client.get("/account/patients?cursor=%00", headers=HTML)
    assert r.status_code == 422


def test_a_clinicians_grant_request_page_survives_a_dead_mail_server(app, client, make_user):
    from tests.conftest import free_port

    clinician = make_user("clinician", email="dr@example.test", password="correct horse battery", name="Dr\r\nBcc: x@y")
    sign_in(client, clinician.email)
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    token = csrf_token(client, "/console/patients")
    r = client.post("/console/grants", data={"email": "holder@example.test", "scopes": "profile", "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with app.app_context():
        from avycenna.db import database
        from avycenna.grants.models import Grant

        with database.obj.connection_context():
            assert Grant.select().where(Grant.email == "holder@example.test").count() == 1


def test_a_checkbox_still_sends_a_boolean_from_the_console(client, make_user, key_for, token_for):
    """JSON booleans are strict (no "true" strings); the page's checkbox text is read as a boolean."""
    from tests.agent_helpers import ask, ready_patient, subscribe

    member = make_user()
    clinician = make_user("clinician", email="dr2@example.test", password="correct horse battery")
    dr = token_for(clinician)
    admin = token_for(make_user("admin"))
    subscribe(client, token_for(member), admin, plan="yearly")
    pid = ready_patient(client, token_for(member), admin)
    encounter = ask(client, key_for(member), patient_id=pid).get_json()["encounter_id"]
    assert client.post(f"/api/v1/encounters/{encounter}/take", headers=dr).status_code == 200
    sign_in(client, clinician.email)
    token = csrf_token(client, f"/console/encounters/{encounter}")
    r = client.post(f"/console/encounters/{encounter}/messages",
                    data={"body": "Any fever?", "asks_agent": "true", "csrf_token": token})
    assert r.status_code == 302
    messages = client.get(f"/api/v1/encounters/{encounter}/messages", headers=dr).get_json()["data"]
    assert [(m["body"], m["asks_agent"]) for m in messages if m["body"] == "Any fever?"] == [("Any fever?", True)]
