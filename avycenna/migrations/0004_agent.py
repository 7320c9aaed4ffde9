"""Agent front door: ID verification, encounters, messages, idempotency, billing."""
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

    class IdVerification(Model):
        id = CharField(primary_key=True, max_length=32)
        patient = ForeignKeyField(Patient, on_delete='CASCADE')
        document_type = CharField(max_length=32)
        document_number_masked = CharField(max_length=64)
        issuing_country = CharField(null=True, max_length=2)
        expires_on = DateField(null=True)
        status = CharField(index=True, max_length=16, default='pending')
        reviewed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        reviewed_at = DateTimeField(null=True)
        review_note = CharField(null=True, max_length=500)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'id_verification'
    db.create_tables([IdVerification])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('id_verification'))
