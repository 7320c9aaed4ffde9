"""Schema migrations with peewee's `playhouse.migrations` runner.

Migrations live in `avycenna/migrations/NNNN_name.py`, each with frozen model
copies, applied in order and recorded in the `schema_migration` table.
`flask --app app db make NAME` writes the next one from the difference between
the upgraded database and the models; `flask --app app db schema` rewrites
`schema.sql`, the readable DDL of the current models.
"""
import os

from peewee import sort_models
from playhouse.migrations import Runner, template
from playhouse.schema_diff import diff_models

from avycenna.db import database
from avycenna.models import all_models

DIRECTORY = os.path.join(os.path.dirname(__file__), "migrations")
SCHEMA_SQL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schema.sql")


def runner():
    return Runner(database.obj, directory=DIRECTORY)


def upgrade():
    """Apply pending migrations; returns their names."""
    with database.obj.connection_context():
        return runner().up()


def known_versions():
    """The names of every migration this code knows."""
    return {m.name for m in runner().migrations()}


def status():
    with database.obj.connection_context():
        return runner().status()


def pending_diff():
    """What the models have that the database lacks (empty when in step)."""
    with database.obj.connection_context():
        return diff_models(database.obj, all_models())


def make(name):
    """Write the next migration from the current diff; None when nothing differs."""
    diff = pending_diff()
    if not diff:
        return None
    return runner().create(name, body=template(diff))


def schema_sql():
    """CREATE TABLE / CREATE INDEX statements of the models, as SQLite speaks them."""
    from peewee import SqliteDatabase

    ddl_db = SqliteDatabase(":memory:")
    models = sort_models(all_models())
    lines = ["-- AVYCENNA schema: generated from the models by `flask --app app db schema`.",
             "-- Do not edit by hand; a test fails when this file drifts from the models.", ""]
    with ddl_db.bind_ctx(models):
        for model in models:
            ctx = model._schema._create_table(safe=False)
            sql, params = ddl_db.get_sql_context().sql(ctx).query()
            lines.append(sql + ";")
            for index in model._schema._create_indexes(safe=False):
                sql, params = ddl_db.get_sql_context().sql(index).query()
                lines.append(sql + ";")
            lines.append("")
    return "\n".join(lines)
