# OAuth clients that name themselves by the URL of their metadata document (client_id = URL).
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_column('oauth_client', 'document_url', CharField(null=True, max_length=2048)))
    migrator.migrate(migrator.add_column('oauth_client', 'document_fetched_at', DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('oauth_client', 'document_fetched_at'))
    migrator.migrate(migrator.drop_column('oauth_client', 'document_url'))
