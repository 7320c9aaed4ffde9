"""At most one running import per account: a partial unique index (imports take turns per
account, so one account's uploads never hold every bulk worker).

Data from before may break the rule (two running imports of one account). The index cannot
be built over it, so on each such account the import that started first stays `running` and
the others go back to `queued` with their lease cleared: the sweep queues them again, and the
samples they stored count as duplicates the next time, not twice.
"""
import logging

log = logging.getLogger("avycenna.migrations")

STARTED = 'COALESCE("{t}"."started_at", "{t}"."created_at")'
LATER_RUNNING = ('UPDATE "wearable_import" SET "status" = \'queued\', "lease_owner" = NULL, '
                 '"lease_expires_at" = NULL WHERE "status" = \'running\' AND EXISTS ('
                 'SELECT 1 FROM "wearable_import" AS "first" WHERE "first"."account_id" = '
                 '"wearable_import"."account_id" AND "first"."status" = \'running\' AND '
                 f'({STARTED.format(t="first")} < {STARTED.format(t="wearable_import")} OR '
                 f'({STARTED.format(t="first")} = {STARTED.format(t="wearable_import")} AND '
                 '"first"."id" < "wearable_import"."id")))')


def up(migrator, db):
    changed = db.execute_sql(LATER_RUNNING).rowcount
    if changed:
        log.warning("0024: %d running import(s) of accounts that had more than one went back to the queue.",
                    changed)
    db.execute_sql('CREATE UNIQUE INDEX "wearable_import_one_running_per_account" ON "wearable_import" '
                   "(\"account_id\") WHERE (\"status\" = 'running')")


def down(migrator, db):
    db.execute_sql('DROP INDEX "wearable_import_one_running_per_account"')
