"""Accounts, API keys and the audit log."""
from peewee import *


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        email = CharField(unique=True, max_length=254)
        name = CharField(max_length=200, default='')
        role = CharField(max_length=16, default='member')
        password_hash = CharField(null=True)
        is_active = BooleanField(default=True)
        created_at = DateTimeField()
        disabled_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class ApiKey(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        name = CharField(max_length=100)
        prefix = CharField(max_length=16)
        key_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'api_key'
    db.create_tables([ApiKey])

    class AuditEvent(Model):
        id = CharField(primary_key=True, max_length=32)
        at = DateTimeField(index=True)
        action = CharField(index=True, max_length=64)
        outcome = CharField(max_length=16, default='success')
        actor_type = CharField(max_length=16)
        actor_user_id = CharField(index=True, null=True, max_length=32)
        actor_key_id = CharField(null=True, max_length=32)
        actor_encounter_id = CharField(null=True, max_length=32)
        patient_id = CharField(index=True, null=True, max_length=36)
        target_type = CharField(null=True, max_length=32)
        target_id = CharField(null=True, max_length=64)
        ip_hash = CharField(null=True, max_length=64)
        request_id = CharField(null=True, max_length=128)
        details = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'audit_event'
    db.create_tables([AuditEvent])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('api_key'))
    migrator.migrate(migrator.drop_table('user'))
