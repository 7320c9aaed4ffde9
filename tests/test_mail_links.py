"""Mails link to pages people open, and a mail written to the log reads as the mail would."""
import logging
import re


def test_grant_request_mail_links_to_the_grants_page(app, client, make_user, key_for, mailbox):
    doc = make_user(role="clinician", name="Dr. Sarah Chen")
    grant = client.post("/api/v1/grants", headers=key_for(doc),
                        json={"email": "holder@example.test", "scopes": ["wearables"]}).get_json()
    body = mailbox.last_body("holder@example.test")
    assert "Dr. Sarah Chen asks for access to: wearables." in body
    assert f"http://127.0.0.1:8000/account/grants#grant-{grant['id']}" in body.split()
    assert "/api/" not in body


def test_a_logged_mail_keeps_long_links_whole(app, caplog):
    from avycenna.mail import send_mail

    app.config["MAIL_HOST"] = None
    link = "https://avycenna.clinic.example/account/encounters/enc_8fHq2LmZt9Wb?with=a-long-query-string-x"
    caplog.set_level(logging.INFO, logger="avycenna.mail")
    with app.test_request_context():
        send_mail("pat@example.test", "A clinician has answered your question — read it", f"Read it: {link}\n")
    assert link in caplog.text.split()
    assert "=\n" not in caplog.text and "=3D" not in caplog.text and "=?utf-8?" not in caplog.text
    assert "Subject: A clinician has answered your question — read it" in caplog.text
    assert re.search(r"^To: pat@example.test$", caplog.text, re.M)
