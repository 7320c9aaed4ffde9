"""Grant requests are mailed to the holder; a mail failure never fails the request."""
from tests.conftest import free_port


def test_grant_request_is_mailed_to_the_holder(app, client, make_user, key_for, mailbox):
    app.config["MAIL_SENDER"] = "Clinic <clinic@example.test>"
    dr = make_user("clinician", name="Dr. Sarah Chen")
    r = client.post("/api/v1/grants", headers=key_for(dr), json={"email": "holder@example.test", "scopes": ["profile"]})
    assert r.status_code == 201
    [mail] = mailbox.to("holder@example.test")
    assert mail["From"] == "Clinic <clinic@example.test>"
    assert "Dr. Sarah Chen" in mail["Subject"] and r.get_json()["id"] in mail.get_content()


def test_without_mail_host_a_notice_is_logged_as_not_sent_without_its_address(app, caplog):
    from avycenna.mail import notify

    app.config["MAIL_HOST"] = None
    caplog.set_level("INFO", logger="avycenna.mail")
    with app.app_context():
        assert notify("a@example.test", "Hello", "Body text") is False
    assert "notice not sent: Hello" in caplog.text
    assert "a@example.test" not in caplog.text and "Body text" not in caplog.text


def test_an_unreachable_server_does_not_fail_the_grant(app, client, make_user, key_for, caplog):
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    dr = make_user("clinician")
    r = client.post("/api/v1/grants", headers=key_for(dr), json={"email": "holder@example.test", "scopes": ["profile"]})
    assert r.status_code == 201
    assert "failed" in caplog.text
