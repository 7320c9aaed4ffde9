"""At most one live `self` patient per account: a partial unique index."""


def up(migrator, db):
    db.execute_sql('CREATE UNIQUE INDEX "patient_one_self_per_account" ON "patient" ("account_id") '
                   "WHERE ((\"relationship\" = 'self') AND (\"archived_at\" IS NULL))")


def down(migrator, db):
    db.execute_sql('DROP INDEX "patient_one_self_per_account"')
