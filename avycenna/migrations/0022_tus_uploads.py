"""Resumable (tus) uploads of Apple Health exports: one row per upload, its offset moved only
by conditional updates."""
from peewee import *
import uuid


def up(migrator, db):
    class Patient(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        class Meta:
            database = db
            table_name = 'patient'

    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class WearableImport(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'wearable_import'

    class ImportUpload(Model):
        id = CharField(primary_key=True, max_length=32)
        patient = ForeignKeyField(Patient, on_delete='CASCADE')
        account = ForeignKeyField(User, on_delete='CASCADE')
        filename = CharField(max_length=255)
        path = CharField(max_length=255, null=True)
        length = BigIntegerField()
        offset = BigIntegerField(default=0)
        writer = CharField(max_length=64, null=True)
        writer_until = DateTimeField(null=True)
        wearable_import = ForeignKeyField(WearableImport, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'import_upload'
    db.create_tables([ImportUpload])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('import_upload'))
