"""Grants, wearable samples and their hourly rollups."""
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

    class Grant(Model):
        id = CharField(primary_key=True, max_length=32)
        clinician = ForeignKeyField(User, on_delete='CASCADE')
        email = CharField(index=True, max_length=254)
        scopes = CharField(max_length=64)
        message = TextField(null=True)
        status = CharField(max_length=16, default='pending')
        patient = ForeignKeyField(Patient, null=True, on_delete='CASCADE')
        holder = ForeignKeyField(User, null=True, on_delete='CASCADE')
        expires_at = DateTimeField(null=True)
        created_at = DateTimeField()
        responded_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        revoked_by = CharField(null=True, max_length=16)
        class Meta:
            database = db
            table_name = 'access_grant'
    db.create_tables([Grant])

    class WearableHourly(Model):
        patient = ForeignKeyField(Patient, on_delete='CASCADE', index=False)
        type = CharField(max_length=32)
        hour_ms = BigIntegerField()
        count = IntegerField()
        sum = DoubleField()
        min = DoubleField()
        max = DoubleField()
        sum2 = DoubleField(null=True)
        min2 = DoubleField(null=True)
        max2 = DoubleField(null=True)
        class Meta:
            database = db
            table_name = 'wearable_hourly'
            indexes = ((('patient', 'type', 'hour_ms'), True),)
    db.create_tables([WearableHourly])

    class WearableSample(Model):
        patient = ForeignKeyField(Patient, on_delete='CASCADE', index=False)
        type = CharField(max_length=32)
        source = CharField(max_length=64)
        start_ms = BigIntegerField()
        end_ms = BigIntegerField(null=True)
        value = DoubleField()
        value2 = DoubleField(null=True)
        class Meta:
            database = db
            table_name = 'wearable_sample'
            indexes = ((('patient', 'type', 'start_ms', 'source'), True),)
    db.create_tables([WearableSample])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('wearable_sample'))
    migrator.migrate(migrator.drop_table('wearable_hourly'))
    migrator.migrate(migrator.drop_table('access_grant'))
