"""An account's encounter list reads one index range (account, created_at, id) at any depth."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("encounter", ("account_id", "created_at", "id"), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("encounter", "encounter_account_id_created_at_id"))
