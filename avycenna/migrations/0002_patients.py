"""Patients (the people an account manages care for)."""
from peewee import *
import uuid


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class Patient(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        account = ForeignKeyField(User, on_delete='CASCADE')
        name = CharField(max_length=200)
        date_of_birth = DateField()
        relationship = CharField(max_length=16)
        sex_at_birth = CharField(null=True, max_length=16)
        consent_version = CharField(null=True, max_length=32)
        consent_given_at = DateTimeField(null=True)
        id_verification_status = CharField(max_length=16, default='unverified')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        archived_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'patient'
    db.create_tables([Patient])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('patient'))
