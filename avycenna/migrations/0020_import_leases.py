"""A running import is held by a lease (owner, expiry) that only its worker renews."""
from peewee import CharField, DateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("wearable_import", "lease_owner", CharField(max_length=64, null=True)),
        migrator.add_column("wearable_import", "lease_expires_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("wearable_import", "lease_expires_at"),
        migrator.drop_column("wearable_import", "lease_owner"),
    )
