# OpenID Connect for SMART apps (`openid fhirUser`): the code keeps its nonce and the sign-in time,
# the connection the FHIR resource that is the person.
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_column('oauth_connection', 'fhir_user', CharField(null=True, max_length=64)))
    migrator.migrate(migrator.add_column('oauth_code', 'nonce', CharField(null=True)))
    migrator.migrate(migrator.add_column('oauth_code', 'auth_time', DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('oauth_code', 'auth_time'))
    migrator.migrate(migrator.drop_column('oauth_code', 'nonce'))
    migrator.migrate(migrator.drop_column('oauth_connection', 'fhir_user'))
