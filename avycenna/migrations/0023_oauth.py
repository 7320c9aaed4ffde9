"""The OAuth 2.1 authorization server: clients, connections (approvals), codes, tokens (hashes only) and used assertion ids."""
from peewee import *


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class OAuthClient(Model):
        id = CharField(primary_key=True, max_length=32)
        name = CharField(max_length=200)
        client_uri = CharField(null=True, max_length=2048)
        redirect_uris = TextField(default='[]')
        grant_types = CharField(max_length=200, default='authorization_code refresh_token')
        scope = CharField(max_length=500, default='')
        token_endpoint_auth_method = CharField(max_length=32, default='none')
        secret_hash = CharField(null=True, max_length=64)
        registered_by = CharField(max_length=16, default='dynamic')
        owner = ForeignKeyField(User, null=True, on_delete='CASCADE')
        jwks = TextField(null=True)
        created_at = DateTimeField()
        first_connected_at = DateTimeField(null=True)
        disabled_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'oauth_client'
    db.create_tables([OAuthClient])

    class OAuthAssertion(Model):
        id = CharField(primary_key=True, max_length=64)
        client = ForeignKeyField(OAuthClient, on_delete='CASCADE', index=False)
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'oauth_assertion'
    db.create_tables([OAuthAssertion])

    class OAuthConnection(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        client = ForeignKeyField(OAuthClient, on_delete='CASCADE')
        scope = CharField(max_length=500)
        resource = CharField(max_length=2048)
        patient_id = CharField(null=True, max_length=36)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        revoked_reason = CharField(null=True, max_length=32)
        class Meta:
            database = db
            table_name = 'oauth_connection'
    db.create_tables([OAuthConnection])

    class OAuthCode(Model):
        id = CharField(primary_key=True, max_length=32)
        code_hash = CharField(unique=True, max_length=64)
        connection = ForeignKeyField(OAuthConnection, on_delete='CASCADE')
        redirect_uri = CharField(max_length=2048)
        code_challenge = CharField(max_length=128)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'oauth_code'
    db.create_tables([OAuthCode])

    class OAuthToken(Model):
        id = CharField(primary_key=True, max_length=32)
        connection = ForeignKeyField(OAuthConnection, on_delete='CASCADE')
        access_hash = CharField(unique=True, max_length=64)
        refresh_hash = CharField(unique=True, null=True, max_length=64)
        scope = CharField(max_length=500)
        issued_at = DateTimeField()
        access_expires_at = DateTimeField()
        refresh_expires_at = DateTimeField(null=True)
        refresh_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'oauth_token'
    db.create_tables([OAuthToken])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('oauth_assertion'))
    migrator.migrate(migrator.drop_table('oauth_token'))
    migrator.migrate(migrator.drop_table('oauth_code'))
    migrator.migrate(migrator.drop_table('oauth_connection'))
    migrator.migrate(migrator.drop_table('oauth_client'))
