"""Keyset pagination: `WHERE key > cursor ORDER BY key LIMIT n+1`.

The cursor is an opaque, signed token of the last row's sort key, so the cost
of a page never grows with how deep it is and clients cannot forge positions.
"""
from datetime import datetime

from flask import current_app, request
from peewee import DateTimeField, Tuple
from itsdangerous import BadSignature, URLSafeSerializer

from avycenna.errors import validation_error


def _serializer():
    """Cursors are signed per endpoint: one list's cursor means nothing to another."""
    return URLSafeSerializer(current_app.secret_key, salt="avycenna.cursor:" + (request.endpoint or ""))


def encode_cursor(values):
    return _serializer().dumps([_jsonable(v) for v in values])


def decode_cursor(cursor):
    try:
        return _serializer().loads(cursor)
    except BadSignature:
        validation_error(["query", "cursor"], "Invalid cursor.")


def paginate(query, columns, limit, cursor, descending=False, key=None):
    """One page of `query` ordered by `columns` (a unique tuple, e.g. (created_at, id)).

    `key(row)` gives the cursor values of a row (default: the columns' names).
    Returns `{"data": rows, "next_cursor": str | None}`.
    """
    rows, next_key = keyset_page(query, columns, limit, cursor_values(cursor, columns), descending, key)
    return {"data": rows, "next_cursor": encode_cursor(next_key) if next_key is not None else None}


def keyset_page(query, columns, limit, after=None, descending=False, key=None):
    """(up to `limit` rows after the key `after`, the last row's key when more follow, else None)."""
    rows = list(seek(query, columns, after, descending).limit(limit + 1))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, (key(rows[-1]) if key else row_key(rows[-1], columns))


def seek(query, columns, values=None, descending=False):
    """`query` ordered by `columns`, starting after the row whose key is `values` (JSON form)."""
    if values:
        values = [_from_cursor(col, v) for col, v in zip(columns, values)]
        left = Tuple(*columns)
        # The row comparison alone does not bound an index range scan; the lead column's bound
        # (implied by it) does, so a page deep in a list starts where the cursor points.
        lead = columns[0] <= values[0] if descending else columns[0] >= values[0]
        query = query.where((left < Tuple(*values) if descending else left > Tuple(*values)) & lead)
    order = [c.desc() for c in columns] if descending else [c.asc() for c in columns]
    return query.order_by(*order)


def row_key(row, columns):
    """A row's sort key in JSON form (what `seek` takes back)."""
    return [_jsonable(getattr(row, c.name)) for c in columns]


def cursor_values(cursor, columns):
    """The sort key (JSON form) a cursor for `columns` holds, or None without a cursor; 422 for
    a cursor that is not one of this list's."""
    if not cursor:
        return None
    values = decode_cursor(cursor)
    if not isinstance(values, list) or len(values) != len(columns):
        validation_error(["query", "cursor"], "Invalid cursor.")
    return values


def cursor_position(cursor, columns):
    """The sort key values a cursor for `columns` holds, as the columns store them (or None)."""
    values = cursor_values(cursor, columns)
    return None if values is None else [_from_cursor(col, v) for col, v in zip(columns, values)]


def _from_cursor(column, value):
    """A cursor value in the form the column stores (UUIDs as hex on SQLite, …)."""
    try:
        if isinstance(column, DateTimeField):
            value = datetime.fromisoformat(value)
        return column.db_value(value)
    except (TypeError, ValueError, AttributeError):
        validation_error(["query", "cursor"], "Invalid cursor.")


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "hex") and not isinstance(value, (bytes, int, float)):
        return str(value)
    return value
