"""Wearables: samples unique by their whole identity, workouts, a rollup per source,
the holder's source priority and uploaded imports.

The rollup is rebuilt from the samples: amounts over an interval are now shared out
over the hours they cover, sleep counts asleep stages only, and each source keeps
its own rows so summaries can take one source per hour.
"""
from peewee import *
import datetime
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

    migrator.migrate(migrator.add_column('wearable_sample', 'detail', TextField(null=True)))
    db.execute_sql('DROP INDEX IF EXISTS "wearablesample_patient_id_type_start_ms_source"')  # as 0005 named it
    db.execute_sql('CREATE UNIQUE INDEX "wearable_sample_identity" ON "wearable_sample" ("patient_id", "type", '
                   '"start_ms", "source", COALESCE("end_ms", -1), "value", COALESCE("value2", -1))')

    db.execute_sql('DELETE FROM "wearable_hourly"')
    migrator.migrate(migrator.add_column('wearable_hourly', 'source', CharField(max_length=64, default='')))
    db.execute_sql('DROP INDEX IF EXISTS "wearablehourly_patient_id_type_hour_ms"')
    db.execute_sql('CREATE UNIQUE INDEX "wearable_hourly_patient_id_type_hour_ms_source" ON "wearable_hourly" '
                   '("patient_id", "type", "hour_ms", "source")')
    rebuild_rollup(db)

    class WearableSourceOrder(Model):
        patient = ForeignKeyField(Patient, on_delete='CASCADE', unique=True)
        sources = TextField(default='[]')
        class Meta:
            database = db
            table_name = 'wearable_source_order'

    class WearableImport(Model):
        id = CharField(primary_key=True, max_length=32)
        patient = ForeignKeyField(Patient, on_delete='CASCADE')
        account = ForeignKeyField(User, on_delete='CASCADE')
        status = CharField(max_length=16, default='queued', index=True)
        filename = CharField(max_length=255)
        path = CharField(max_length=255, null=True)
        bytes_total = BigIntegerField()
        bytes_read = BigIntegerField(default=0)
        inserted = TextField(default='{}')
        duplicates = IntegerField(default=0)
        skipped = TextField(default='{}')
        error = TextField(null=True)
        attempts = IntegerField(default=0)
        created_at = DateTimeField()
        started_at = DateTimeField(null=True)
        heartbeat_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'wearable_import'
    db.create_tables([WearableSourceOrder, WearableImport])


def rebuild_rollup(db):
    """Fold every stored sample into the new rollup, a patient and source at a time."""
    from avycenna.wearables.service import add_to_rollup

    pairs = db.execute_sql('SELECT DISTINCT patient_id, source FROM "wearable_sample"').fetchall()
    for patient_id, source in pairs:
        rows = db.execute_sql('SELECT type, start_ms, end_ms, value, value2 FROM "wearable_sample" '
                              'WHERE patient_id = %s AND source = %s' % (db.param, db.param),
                              (patient_id, source)).fetchall()
        for i in range(0, len(rows), 20000):
            add_to_rollup(patient_id if isinstance(patient_id, str) else str(patient_id), rows[i:i + 20000], source)


def down(migrator, db):
    migrator.migrate(migrator.drop_table('wearable_import'))
    migrator.migrate(migrator.drop_table('wearable_source_order'))
    db.execute_sql('DROP INDEX "wearable_sample_identity"')
    db.execute_sql('CREATE UNIQUE INDEX "wearablesample_patient_id_type_start_ms_source" ON "wearable_sample" '
                   '("patient_id", "type", "start_ms", "source")')
    migrator.migrate(migrator.drop_column('wearable_sample', 'detail'))
