"""Housekeeping: expire overdue encounters, send on paid-for waiting ones, delete expired
codes, tokens and records, and resumable uploads past their Upload-Expires (with their bytes).

Runs every hour as a background job inside the server (or its workers), and on demand
as `flask --app app housekeeping`. Safe to run as often as you like.
"""
import logging

from avycenna import jobs

log = logging.getLogger("avycenna")


def run():
    """Do one round; returns {what: how many}."""
    from avycenna.encounters.idempotency import purge_expired as purge_idempotency
    from avycenna.encounters.submission import settle_waiting
    from avycenna.auth.otp import purge_expired as purge_codes
    from avycenna.auth.refresh import purge_expired as purge_refresh
    from avycenna.auth.sessions import purge_expired as purge_sessions
    from avycenna.db import write_transaction
    from avycenna.encounters.lifecycle import expire_due
    from avycenna.imports.resumable import expire as expire_uploads
    from avycenna.oauth.service import purge_expired as purge_oauth

    with write_transaction():
        counts = {"encounters expired": expire_due(), "sign-in codes deleted": purge_codes(),
                  "refresh tokens deleted": purge_refresh(), "browser sessions deleted": purge_sessions(),
                  "idempotency records deleted": purge_idempotency(), "OAuth records deleted": purge_oauth()}
    counts["encounters released"] = len(settle_waiting())  # each in its own transaction
    counts["uploads expired"] = expire_uploads()  # each in its own transaction, its bytes deleted after
    return counts


@jobs.periodic_task(jobs.crontab(minute="7"))
def hourly():
    """The background job: one round of housekeeping, its counts in the log."""
    counts = run()
    log.info("housekeeping: %s", "; ".join(f"{name}: {n}" for name, n in counts.items()))
