"""`flask --app app db copy --to URL`: every table from this instance's database to another.

The target must be empty; it is migrated to the same schema version first. Rows are
copied table by table in dependency order, in keyset batches, keeping their ids; then
each table's row count and checksum are compared on both sides. Works from SQLite to
PostgreSQL and back.
"""
import datetime
import hashlib
import json
import uuid

from peewee import AutoField, CompositeKey, Tuple, sort_models

from avycenna.db import database, make_database

BATCH = 1000


class CopyError(Exception):
    """The copy cannot go ahead or did not match; the message says why."""


def models():
    from avycenna.models import all_models

    return sort_models(all_models())


def normalized(value):
    """A value as the same text on every backend (for checksums)."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def table_digest(model):
    """(row count, checksum) of a table, independent of row order and backend."""
    total, count = 0, 0
    for row in model.select().tuples().iterator():
        text = json.dumps([normalized(v) for v in row], default=str)
        total = (total + int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")) % (1 << 256)
        count += 1
    return count, format(total, "064x")


def prepare_target(target):
    """Migrate the target to this code's schema; refuse it if it holds any row of ours."""
    from avycenna.migrate import DIRECTORY
    from playhouse.migrations import Runner

    with target.connection_context():
        Runner(target, directory=DIRECTORY).up()
        with target.bind_ctx(models()):
            busy = [m._meta.table_name for m in models() if m.select().exists()]
    if busy:
        raise CopyError("the target database is not empty (rows in " + ", ".join(busy) + "); "
                        "copy only into a new, empty database")


def batches(model, size):
    """The model's rows as lists of tuples, in primary-key order, `size` at a time (a composite
    key is compared as a row value: `(a, b) > (?, ?)`)."""
    pk = model._meta.primary_key
    keys = [model._meta.fields[name] for name in pk.field_names] if isinstance(pk, CompositeKey) else [pk]
    positions = [model._meta.sorted_field_names.index(key.name) for key in keys]
    last = None
    while True:
        query = model.select().order_by(*keys).limit(size)
        if last is not None:
            query = query.where(Tuple(*keys) > Tuple(*[key.to_value(v) for key, v in zip(keys, last)]))
        rows = list(query.tuples())
        if not rows:
            return
        yield rows
        last = [rows[-1][i] for i in positions]


def reset_sequences(target, model):
    """PostgreSQL: move an integer id's sequence past the copied ids."""
    pk = model._meta.primary_key
    if not isinstance(pk, AutoField) or target.__class__.__name__.find("Postgres") < 0:
        return
    table = model._meta.table_name
    target.execute_sql(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk.column_name}'), "
        f"COALESCE(MAX(\"{pk.column_name}\"), 1), MAX(\"{pk.column_name}\") IS NOT NULL) FROM \"{table}\"")


def copy_to(url, batch=BATCH, progress=None):
    """Copy every table to the empty database at `url`; returns {table: (rows, checksum)}.

    `progress(n)` is called after each batch with the number of rows it held.
    """
    target = make_database(url)
    prepare_target(target)
    with database.connection_context():
        for model in models():
            fields = model._meta.sorted_fields
            for rows in batches(model, batch):
                with target.connection_context(), target.bind_ctx([model], bind_refs=False, bind_backrefs=False):
                    with target.atomic():
                        model.insert_many(rows, fields=fields).execute()
                if progress:
                    progress(len(rows))
            with target.connection_context():
                reset_sequences(target, model)
        source = {m._meta.table_name: table_digest(m) for m in models()}
    with target.connection_context(), target.bind_ctx(models()):
        copied = {m._meta.table_name: table_digest(m) for m in models()}
    target.close_all() if hasattr(target, "close_all") else target.close()
    differ = [name for name in source if source[name] != copied[name]]
    if differ:
        raise CopyError("the copy differs from the source in: " + ", ".join(differ))
    return source


def total_rows():
    with database.connection_context():
        return sum(m.select().count() for m in models())
