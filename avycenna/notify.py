"""Sending a notification e-mail: SMTP when MAIL_HOST is configured, the server log otherwise.

Every call site goes through `notify()`, so the transport can change in one place.
A failed send is logged, never raised: the request that caused it already succeeded.
"""
import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("avycenna.mail")


def _smtp(config):
    host, port, timeout = config["MAIL_HOST"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        return smtplib.SMTP_SSL(host, port, timeout=timeout)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if config["MAIL_USE_STARTTLS"]:
        smtp.starttls()
    return smtp


def notify(to, subject, body):
    """Mail `body` to `to`; returns True when an SMTP server accepted it."""
    config = current_app.config
    if not config.get("MAIL_HOST"):
        log.info("mail (no MAIL_HOST configured) to %s: %s\n%s", to, subject, body)
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_SENDER"], to, subject
    message.set_content(body)
    try:
        with _smtp(config) as smtp:
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s not sent: %s", to, type(exc).__name__)
        return False
    return True
