"""Server-side browser sessions, so a session can be ended (ids and times default in Python)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class BrowserSession(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'browser_session'
    db.create_tables([BrowserSession])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('browser_session'))
