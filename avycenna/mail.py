"""Outgoing e-mail with the standard library: SMTP when `MAIL_HOST` is set, else the log.

Without SMTP a sign-in mail (`send_mail`), body included, is written to the server
log, so a self-hoster can sign in by e-mail code on day one; any other notice
(`notify`) is only logged as not sent, without its address. `send_mail` raises
`MailError` when the message cannot be built or handed to the SMTP server.
Header text is put on one line first: a name with a line break in it (from before
names were checked, or from the CLI) cannot add headers.
"""
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

log = logging.getLogger("avycenna.mail")


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text):
    """Header text on one line: every run of line breaks or control characters becomes a space."""
    return LINE_BREAKS.sub(" ", text).strip()


def build_message(to, subject, body):
    config = current_app.config
    if one_line(to) != to:
        raise MailError("The address holds a line break or control character.")
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="avycenna")
    message.set_content(body)
    return message


def readable(message):
    """The message as a person reads it: its headers and the decoded body (no quoted-printable
    soft line breaks cutting links in two, no encoded words)."""
    headers = "".join(f"{name}: {message[name]}\n" for name in ("From", "To", "Subject", "Date"))
    return headers + "\n" + message.get_content()


def send_mail(to, subject, body):
    """Send a plain-text mail to `to` (or log it when no SMTP server is configured)."""
    try:
        message = build_message(to, subject, body)
    except ValueError as exc:  # the email package refuses what it cannot put in a header
        raise MailError(str(exc)) from exc
    config = current_app.config
    if not config["MAIL_HOST"]:
        log.info("MAIL_HOST is not set; mail written here instead of sent:\n%s", readable(message))
        return
    try:
        with _connect(config) as smtp:
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to the SMTP server at %s failed: %s", config["MAIL_HOST"], type(exc).__name__)
        raise MailError(str(exc)) from exc


def _connect(config):
    host, port, timeout = config["MAIL_HOST"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if config["MAIL_USE_STARTTLS"]:
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def notify(to, subject, body):
    """Send a notification that must not fail the request that caused it.

    Call it after the change it reports is committed. Returns True when the mail was
    handed to an SMTP server; with no `MAIL_HOST`, or on any failure, it logs that the
    notice was not sent (never the address or the body) and returns False, since the
    caller's change already succeeded.
    """
    if not current_app.config["MAIL_HOST"]:
        log.info("MAIL_HOST is not set; notice not sent: %s", one_line(subject))
        return False
    try:
        send_mail(to, subject, body)
    except Exception as exc:  # noqa: BLE001 — a saved change must not become an error response
        log.warning("notice not sent (%s): %s", type(exc).__name__, one_line(subject))
        return False
    return True
