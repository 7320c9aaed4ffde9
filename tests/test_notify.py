"""notify(): SMTP when MAIL_HOST is set (a real aiosmtpd server on loopback), the log otherwise."""
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.test_instance import free_port


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def app_config(app_config, smtp):
    controller, _ = smtp
    app_config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=controller.port, MAIL_SENDER="Clinic <clinic@example.test>")
    return app_config


def test_grant_request_is_mailed_to_the_holder(client, make_user, key_for, smtp):
    _, inbox = smtp
    dr = make_user("clinician", name="Dr. Sarah Chen")
    r = client.post("/api/v1/grants", headers=key_for(dr), json={"email": "holder@example.test", "scopes": ["profile"]})
    assert r.status_code == 201
    [mail] = inbox.messages
    assert mail["To"] == "holder@example.test" and mail["From"] == "Clinic <clinic@example.test>"
    assert "Dr. Sarah Chen" in mail["Subject"] and r.get_json()["id"] in mail.get_payload()


def test_without_mail_host_the_message_goes_to_the_log(app, caplog):
    from avycenna.notify import notify

    app.config["MAIL_HOST"] = None
    caplog.set_level("INFO", logger="avycenna.mail")
    with app.app_context():
        assert notify("a@example.test", "Hello", "Body text") is False
    assert "a@example.test" in caplog.text and "Body text" in caplog.text


def test_an_unreachable_server_is_logged_not_raised(app, caplog):
    from avycenna.notify import notify

    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    with app.app_context():
        assert notify("a@example.test", "Hello", "Body") is False
    assert "not sent" in caplog.text
