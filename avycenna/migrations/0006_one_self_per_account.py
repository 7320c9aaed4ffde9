"""At most one live `self` patient per account: a partial unique index.

Data from before this migration may break the rule (two live `self` patients on one
account). The index cannot be built over it, and a server that refuses to start over a
fix-up it can make helps nobody, so the fix-up comes first: on each such account the
oldest `self` patient stays `self` and the later ones become `other` (nothing is deleted
or hidden). How many were changed is logged, without names, for the clinic to review.
"""
import logging

log = logging.getLogger("avycenna.migrations")

LIVE_SELF = "\"relationship\" = 'self' AND \"archived_at\" IS NULL"
LATER_SELF = (f'UPDATE "patient" SET "relationship" = \'other\' WHERE {LIVE_SELF} AND EXISTS ('
              f'SELECT 1 FROM "patient" AS "older" WHERE "older"."account_id" = "patient"."account_id" '
              f'AND "older"."relationship" = \'self\' AND "older"."archived_at" IS NULL '
              f'AND ("older"."created_at" < "patient"."created_at" OR ("older"."created_at" = '
              f'"patient"."created_at" AND "older"."id" < "patient"."id")))')


def up(migrator, db):
    changed = db.execute_sql(LATER_SELF).rowcount
    if changed:
        log.warning("0006: %d extra live `self` patient(s) on accounts that had more than one became "
                    "`other`; review them (GET /api/v1/patients of each account).", changed)
    db.execute_sql('CREATE UNIQUE INDEX "patient_one_self_per_account" ON "patient" ("account_id") '
                   "WHERE ((\"relationship\" = 'self') AND (\"archived_at\" IS NULL))")


def down(migrator, db):
    db.execute_sql('DROP INDEX "patient_one_self_per_account"')
