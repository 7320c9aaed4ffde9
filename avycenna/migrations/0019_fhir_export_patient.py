"""The patients each bulk export wrote (and under which scopes), so its status and files are
served only while the requester may still read every one of them."""
import uuid

from peewee import CharField, CompositeKey, ForeignKeyField, Model, UUIDField


def up(migrator, db):
    class FhirExport(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'fhir_export'

    class Patient(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        class Meta:
            database = db
            table_name = 'patient'

    class FhirExportPatient(Model):
        export = ForeignKeyField(FhirExport, on_delete='CASCADE', index=False)
        patient = ForeignKeyField(Patient, on_delete='CASCADE', index=True)
        scopes = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'fhir_export_patient'
            primary_key = CompositeKey('export', 'patient')
    db.create_tables([FhirExportPatient])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('fhir_export_patient'))
