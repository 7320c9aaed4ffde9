"""Wearable sources get ids: events name a device by `source_id`, never by the name it chose.

Every (patient, source) that already has samples gets its id now.
"""
from peewee import *
import datetime
import uuid


def up(migrator, db):
    from avycenna.ids import new_id

    class Patient(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        class Meta:
            database = db
            table_name = 'patient'

    class WearableSource(Model):
        id = CharField(primary_key=True, max_length=32)
        patient = ForeignKeyField(Patient, on_delete='CASCADE', index=False)
        name = CharField(max_length=64)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'wearable_source'
            indexes = ((('patient', 'name'), True),)
    db.create_tables([WearableSource])

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    pairs = db.execute_sql('SELECT DISTINCT patient_id, source FROM "wearable_hourly"').fetchall()
    rows = [{"id": new_id("wsrc"), "patient": patient_id, "name": source, "created_at": now}
            for patient_id, source in pairs]
    for i in range(0, len(rows), 500):
        WearableSource.insert_many(rows[i:i + 500]).execute()


def down(migrator, db):
    migrator.migrate(migrator.drop_table('wearable_source'))
