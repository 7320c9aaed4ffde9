"""Baselines for bench/floor.py: Flask apps doing only part of what `GET /auth/me` must do.

`read`: bare Flask, plus one SQLite primary-key read of an account row per request (the
read that lets a disabled account or a role change act on the next request), returned as
JSON. `smorest`: the same read, through a flask-smorest blueprint whose response goes
through a marshmallow schema, as AVYCENNA's views do. The database is `FLOOR_DB`, the row
`FLOOR_USER` (an instance made by bench/setup.py)."""
import os
import sqlite3
import threading

from flask import Flask
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields

SQL = "SELECT id, email, name, role, is_active, created_at, disabled_at FROM user WHERE id = ?"
_local = threading.local()


def account():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(os.environ["FLOOR_DB"])
        conn.row_factory = sqlite3.Row
    return dict(conn.execute(SQL, (os.environ["FLOOR_USER"],)).fetchone())


read = Flask("read")


@read.get("/")
def read_index():
    return account()


class AccountSchema(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String(allow_none=True)
    role = fields.String()
    created_at = fields.String()


smorest = Flask("smorest")
smorest.config.update(API_TITLE="floor", API_VERSION="1", OPENAPI_VERSION="3.0.3")
blp = Blueprint("floor", __name__)


@blp.route("/")
@blp.response(200, AccountSchema)
def smorest_index():
    return account()


Api(smorest).register_blueprint(blp)
