"""Webhook endpoints and the outbox of their deliveries."""
from peewee import *


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class WebhookEndpoint(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        url = CharField(max_length=2048)
        events = CharField(max_length=512, default='')
        description = CharField(null=True, max_length=500)
        secret_salt = CharField(max_length=64)
        status = CharField(max_length=16, default='active')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'webhook_endpoint'
    db.create_tables([WebhookEndpoint])

    class WebhookDelivery(Model):
        id = CharField(primary_key=True, max_length=32)
        endpoint = ForeignKeyField(WebhookEndpoint, on_delete='CASCADE', index=False)
        message_id = CharField(max_length=32)
        event_type = CharField(max_length=64)
        payload = TextField()
        status = CharField(max_length=16, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        lease_until = DateTimeField(null=True)
        last_attempt_at = DateTimeField(null=True)
        response_status = SmallIntegerField(null=True)
        last_error = CharField(null=True, max_length=200)
        created_at = DateTimeField()
        delivered_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'webhook_delivery'
            indexes = ((('status', 'next_attempt_at'), False), (('endpoint', 'created_at'), False))
    db.create_tables([WebhookDelivery])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('webhook_delivery'))
    migrator.migrate(migrator.drop_table('webhook_endpoint'))
