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

    class Encounter(Model):
        id = CharField(primary_key=True, max_length=32)
        account = ForeignKeyField(User, null=True, on_delete='CASCADE')
        patient = ForeignKeyField(Patient, null=True, on_delete='SET NULL')
        status = CharField(index=True, max_length=24, default='awaiting_checkout')
        session_token_hash = CharField(unique=True, max_length=64)
        encounter_token_hash = CharField(unique=True, max_length=64)
        token_expires_at = DateTimeField()
        payment = CharField(null=True, max_length=16)
        checked_out_at = DateTimeField(null=True)
        clinician = ForeignKeyField(User, null=True, on_delete='SET NULL')
        summary = TextField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        submitted_at = DateTimeField(index=True, null=True)
        taken_at = DateTimeField(null=True)
        answered_at = DateTimeField(null=True)
        closed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'encounter'
    db.create_tables([Encounter])

    class EncounterQuery(Model):
        id = CharField(primary_key=True, max_length=32)
        encounter = ForeignKeyField(Encounter, on_delete='CASCADE')
        text = TextField()
        source = CharField(max_length=16)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'encounter_query'
    db.create_tables([EncounterQuery])

    class IdempotencyRecord(Model):
        key_hash = CharField(primary_key=True, max_length=64)
        body_hash = CharField(max_length=64)
        salt = CharField(max_length=64)
        status_code = IntegerField()
        response = TextField()
        created_at = DateTimeField()
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'idempotency_record'
    db.create_tables([IdempotencyRecord])

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

    class Subscription(Model):
        id = CharField(primary_key=True, max_length=32)
        account = ForeignKeyField(User, on_delete='CASCADE')
        plan = CharField(max_length=64)
        status = CharField(index=True, max_length=16, default='pending')
        current_period_start = DateTimeField(null=True)
        current_period_end = DateTimeField(null=True)
        created_at = DateTimeField()
        cancelled_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'subscription'
    db.create_tables([Subscription])

    class Invoice(Model):
        id = CharField(primary_key=True, max_length=32)
        account = ForeignKeyField(User, on_delete='CASCADE')
        kind = CharField(max_length=16)
        subscription = ForeignKeyField(Subscription, null=True, on_delete='CASCADE')
        encounter = ForeignKeyField(Encounter, null=True, on_delete='CASCADE')
        description = CharField(max_length=200)
        amount = IntegerField()
        currency = CharField(max_length=3)
        status = CharField(index=True, max_length=16, default='open')
        created_at = DateTimeField()
        paid_at = DateTimeField(null=True)
        paid_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'invoice'
    db.create_tables([Invoice])

    class Message(Model):
        id = CharField(primary_key=True, max_length=32)
        encounter = ForeignKeyField(Encounter, on_delete='CASCADE')
        author_role = CharField(max_length=16)
        author = ForeignKeyField(User, null=True, on_delete='SET NULL')
        body = TextField()
        asks_agent = BooleanField(default=False)
        is_answer = BooleanField(default=False)
        reply_to = CharField(null=True, max_length=32)
        created_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'message'
    db.create_tables([Message])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('message'))
    migrator.migrate(migrator.drop_table('invoice'))
    migrator.migrate(migrator.drop_table('subscription'))
    migrator.migrate(migrator.drop_table('id_verification'))
    migrator.migrate(migrator.drop_table('idempotency_record'))
    migrator.migrate(migrator.drop_table('encounter_query'))
    migrator.migrate(migrator.drop_table('encounter'))
