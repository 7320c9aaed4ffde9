"""Each webhook endpoint keeps its own signing secret, and the one before a rotation.

Until now an endpoint's secret was derived from SECRET_KEY and a per-endpoint salt, so
rotating SECRET_KEY (or restoring a backup under another key) changed every secret at
once. Each existing endpoint is given, stored, the secret it has today (derived with
the key the server runs under: the configured SECRET_KEY, else instance/secret_key as it is
now, which after a restore is the backup's), so integrators keep verifying; the salt goes.
"""
import base64
import hashlib
import hmac

from peewee import *


def derived_secret(secret_key, salt):
    """The secret 0010's endpoints had: HMAC-SHA256(SECRET_KEY, "webhook-secret:" + salt)."""
    raw = hmac.new(secret_key.encode(), b"webhook-secret:" + salt.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw).decode()


def server_key(app):
    """The SECRET_KEY the server runs under: read again from instance/secret_key when it came
    from there (a restore puts the backup's key in that file before it upgrades)."""
    path = app.extensions.get("avycenna.secret_key_file")
    if path:
        with open(path) as fh:
            return fh.read().strip()
    return app.secret_key


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('webhook_endpoint', 'secret', CharField(max_length=64, null=True)),
        migrator.add_column('webhook_endpoint', 'previous_secret', CharField(max_length=64, null=True)),
        migrator.add_column('webhook_endpoint', 'previous_secret_until', DateTimeField(null=True)),
    )
    rows = db.execute_sql('SELECT id, secret_salt FROM "webhook_endpoint"').fetchall()
    if rows:
        from flask import current_app  # upgrades run in the app's context (CLI, serve, restore)

        key = server_key(current_app)
        for endpoint_id, salt in rows:
            db.execute_sql('UPDATE "webhook_endpoint" SET secret = %s WHERE id = %s' % (db.param, db.param),
                           (derived_secret(key, salt), endpoint_id))
    migrator.migrate(
        migrator.add_not_null('webhook_endpoint', 'secret'),
        migrator.drop_column('webhook_endpoint', 'secret_salt'),
    )


def down(migrator, db):
    """The derived scheme cannot hold a stored secret: endpoints get new salts (new secrets)."""
    import secrets

    migrator.migrate(migrator.add_column('webhook_endpoint', 'secret_salt', CharField(max_length=64, null=True)))
    for (endpoint_id,) in db.execute_sql('SELECT id FROM "webhook_endpoint"').fetchall():
        db.execute_sql('UPDATE "webhook_endpoint" SET secret_salt = %s WHERE id = %s' % (db.param, db.param),
                       (secrets.token_hex(16), endpoint_id))
    migrator.migrate(
        migrator.add_not_null('webhook_endpoint', 'secret_salt'),
        migrator.drop_column('webhook_endpoint', 'previous_secret_until'),
        migrator.drop_column('webhook_endpoint', 'previous_secret'),
        migrator.drop_column('webhook_endpoint', 'secret'),
    )
