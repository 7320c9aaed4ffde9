"""A row per backup taken (admin status shows the last one)."""
from peewee import BigIntegerField, CharField, DateTimeField, Model


def up(migrator, db):
    class BackupRecord(Model):
        created_at = DateTimeField(index=True)
        path = CharField(max_length=1024)
        sha256 = CharField(max_length=64)
        schema_version = CharField(max_length=128)
        size_bytes = BigIntegerField()
        class Meta:
            database = db
            table_name = 'backup_record'
    db.create_tables([BackupRecord])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('backup_record'))
