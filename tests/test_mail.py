"""Mail goes through a real SMTP server on loopback, or into the log without one."""
import logging

import pytest

from avycenna.mail import MailError, send_mail


def test_send_mail_delivers_through_smtp(app, mailbox):
    with app.app_context():
        send_mail("pat@example.test", "Hello", "Line one\nLine two\n")
    [message] = mailbox.to("pat@example.test")
    assert message["Subject"] == "Hello"
    assert message["From"] == app.config["MAIL_SENDER"]
    assert message["Message-ID"] and message["Date"]
    assert message.get_content() == "Line one\nLine two\n"


def test_smtp_login_is_used_when_a_user_is_configured(app, mailbox):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.conftest import free_port

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        app.config.update(MAIL_PORT=controller.port, MAIL_USERNAME="clinic", MAIL_PASSWORD="pw-123")
        with app.app_context():
            send_mail("doc@example.test", "Auth", "body\n")
    finally:
        controller.stop()
    assert seen == [(b"clinic", b"pw-123")]
    assert mailbox.to("doc@example.test")


def test_without_mail_host_the_whole_message_is_logged(app, caplog):
    caplog.set_level(logging.INFO, logger="avycenna.mail")
    with app.app_context():
        send_mail("pat@example.test", "Your code", "Your sign-in code is 123456\n")
    assert "To: pat@example.test" in caplog.text
    assert "Your sign-in code is 123456" in caplog.text


def test_unreachable_smtp_server_raises_mail_error(app):
    from tests.conftest import free_port

    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    with app.app_context(), pytest.raises(MailError):
        send_mail("pat@example.test", "x", "y")
