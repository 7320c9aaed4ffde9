"""Identity: refresh-token families and e-mail sign-in codes."""
from peewee import *


def up(migrator, db):
    class User(Model):
        id = CharField(primary_key=True, max_length=32)
        class Meta:
            database = db
            table_name = 'user'

    class OtpCode(Model):
        id = CharField(primary_key=True, max_length=32)
        email = CharField(index=True, max_length=254)
        code_hash = CharField(max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        attempts = IntegerField(default=0)
        consumed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'otp_code'
    db.create_tables([OtpCode])

    class RefreshToken(Model):
        id = CharField(primary_key=True, max_length=32)
        user = ForeignKeyField(User, on_delete='CASCADE')
        family = CharField(index=True, max_length=32)
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'refresh_token'
    db.create_tables([RefreshToken])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('refresh_token'))
    migrator.migrate(migrator.drop_table('otp_code'))
