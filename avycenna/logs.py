"""No bearer credential in any log line.

The checkout page's URL path holds an encounter token, so an access line from
werkzeug's development server, a waitress error or our own "error on GET /checkout/…"
would otherwise write a credential to the log. Every log record, whichever logger
or handler, is redacted where it is made (a log-record factory), before any
handler formats it.
"""
import logging
import re
import time

REDACTED = "[redacted]"
CREDENTIALS = [
    (re.compile(r"(/checkout/)[^/?#\s\"']+"), r"\1" + REDACTED),  # the encounter token in the page URL
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1" + REDACTED),
    (re.compile(r"\b(av[kr]_)[A-Za-z0-9_-]+"), r"\1" + REDACTED),  # API keys, refresh tokens
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),  # JWTs
    (re.compile(r"\b[0-9a-f]{64}\b"), REDACTED),  # encounter tokens
]


def redact(text):
    """`text` with every credential it holds replaced by [redacted]."""
    for pattern, replacement in CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def _redacting(make_record):
    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record
    factory.redacts_credentials = True
    return factory


class OncePerPeriod:
    """Stands in for a logger whose warning repeats on every request under load (waitress's
    "Task queue depth is N"): one warning each `every` seconds reaches `logger`, saying how
    many were held back since the last. A held-back warning costs a clock read: no log
    record is made, no line written. Callers serialise their calls (waitress warns under
    its dispatcher's lock)."""

    def __init__(self, logger, every):
        self.logger = logger
        self.every = every
        self.next_at = 0.0
        self.held = 0

    def warning(self, msg, *args):
        now = time.monotonic()
        if now < self.next_at:
            self.held += 1
            return
        held, self.held, self.next_at = self.held, 0, now + self.every
        if held:
            msg, args = msg + " (%d more like it held back)", (*args, held)
        self.logger.warning(msg, *args)


def init_app(app):
    """Install the redacting record factory once per process."""
    make_record = logging.getLogRecordFactory()
    if not getattr(make_record, "redacts_credentials", False):
        logging.setLogRecordFactory(_redacting(make_record))
