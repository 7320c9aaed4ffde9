"""Bulk Data exports (FHIR `Patient/$export`): state, progress and files of each request."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class FhirExport(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        status = CharField(max_length=16, index=True)
        types = CharField(max_length=128)
        request_url = TextField()
        patients_total = IntegerField()
        patients_done = IntegerField()
        attempt = IntegerField()
        files = TextField()
        error = CharField(max_length=200, null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        finished_at = DateTimeField(null=True)
        expires_at = DateTimeField(null=True, index=True)
        class Meta:
            database = db
            table_name = 'fhir_export'
    db.create_tables([FhirExport])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('fhir_export'))
