"""Text that reaches a mail header stays on one line, and mail never fails a saved change."""
import pytest

from tests.conftest import free_port

EVIL = "Dr\r\nBcc: x@y.test"


@pytest.fixture
def evil_clinician(make_user, key_for):
    """A clinician whose stored name has a line break (from before names were checked, or the CLI)."""
    return key_for(make_user("clinician", name=EVIL))


def grant_count(client, headers):
    return len(client.get("/api/v1/grants/outgoing", headers=headers).get_json()["data"])


def test_a_line_break_in_a_name_cannot_add_a_header(client, evil_clinician, mailbox):
    r = client.post("/api/v1/grants", headers=evil_clinician,
                    json={"email": "holder@example.test", "scopes": ["profile"]})
    assert r.status_code == 201
    [mail] = mailbox.messages
    assert mail["To"] == "holder@example.test" and mail["Bcc"] is None
    assert mail["Subject"] == "Dr Bcc: x@y.test asks for access to your health data"
    assert grant_count(client, evil_clinician) == 1


def test_a_dead_smtp_server_does_not_fail_the_saved_grant(app, client, evil_clinician, caplog):
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    r = client.post("/api/v1/grants", headers=evil_clinician,
                    json={"email": "holder@example.test", "scopes": ["profile"]})
    assert r.status_code == 201
    assert grant_count(client, evil_clinician) == 1
    assert "notice not sent" in caplog.text and "holder@example.test" not in caplog.text


def test_a_dead_smtp_server_does_not_fail_a_clinicians_answer(app, client, make_user, key_for, token_for):
    from tests.agent_helpers import ask, ready_patient, subscribe

    member, admin, dr = make_user(), token_for(make_user("admin")), token_for(make_user("clinician"))
    subscribe(client, token_for(member), admin, plan="yearly")
    pid = ready_patient(client, token_for(member), admin)
    encounter = ask(client, key_for(member), patient_id=pid).get_json()["encounter_id"]
    assert client.post(f"/api/v1/encounters/{encounter}/take", headers=dr).status_code == 200
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    r = client.post(f"/api/v1/encounters/{encounter}/answer", headers=dr, json={"body": "Rest and fluids."})
    assert r.status_code == 200 and r.get_json()["status"] == "answered"


@pytest.mark.parametrize("name", ["Dr\r\nBcc: x@y", "Ann\nLee", "Ann\u2028Lee", "Ann\x1b[31m"])
def test_names_with_line_breaks_or_control_characters_are_refused(client, make_user, key_for, name):
    admin = key_for(make_user("admin"))
    me = key_for(make_user("member"))
    for method, path, headers, body in [
        ("patch", "/api/v1/auth/me", me, {"name": name}),
        ("post", "/api/v1/admin/users", admin, {"email": "new@example.test", "role": "clinician", "name": name}),
        ("post", "/api/v1/patients", me, {"name": name, "date_of_birth": "1990-01-02", "relationship": "self"}),
        ("post", "/api/v1/api-keys", me, {"name": name}),
    ]:
        r = getattr(client, method)(path, headers=headers, json=body)
        assert r.status_code == 422, (path, r.get_json())
        assert r.get_json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get("/api/v1/auth/me", headers=me).get_json()["name"] == "Test Person"


def test_without_mail_host_only_sign_in_mails_reach_the_log(app, client, evil_clinician, caplog):
    caplog.set_level("INFO", logger="avycenna.mail")
    client.post("/api/v1/grants", headers=evil_clinician, json={"email": "holder@example.test", "scopes": ["profile"]})
    assert "holder@example.test" not in caplog.text and "notice not sent" in caplog.text
    assert client.post("/api/v1/auth/otp/send", json={"email": "signin@example.test"}).status_code == 202
    assert "signin@example.test" in caplog.text and "Your sign-in code is" in caplog.text
