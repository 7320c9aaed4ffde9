"""Shared set-up: an instance folder with an account, an API key and a patient; the server;
a throwaway PostgreSQL database when one is reachable."""
import os
import uuid
from datetime import date
from urllib.parse import urlparse, urlunparse

# Starting and stopping `python app.py` on an instance is what the tests do too.
from tests.test_instance import ROOT, free_port, start_server, stop as stop_server  # noqa: F401

PG_URL = os.environ.get("AVYCENNA_BENCH_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AVYCENNA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

HOUR_MS = 3600 * 1000


def make_instance(path, database_url=None):
    """Upgrade a fresh instance (SQLite in `path` unless `database_url`); returns (app, patient, api_key)."""
    from avycenna import create_app
    from avycenna.api_keys.service import create_key
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.migrate import upgrade
    from avycenna.patients.models import Patient

    app = create_app({"INSTANCE_PATH": path, "DATABASE_URL": database_url or "sqlite:///" + os.path.join(path, "avycenna.sqlite3")})
    with app.app_context():
        upgrade()
        with database.obj.connection_context():
            user = create_user("bench@example.test")
            _, key = create_key(user, "bench")
            patient = Patient.create(account=user, name="Bench", date_of_birth=date(1980, 1, 1), relationship="self")
    return app, patient, key


def pg_database():
    """A fresh PostgreSQL database's URL, or None when PostgreSQL does not answer."""
    import psycopg2

    try:
        conn = psycopg2.connect(PG_URL, connect_timeout=2)
    except psycopg2.OperationalError:
        return None
    name = "avybench_" + uuid.uuid4().hex[:12]
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(urlparse(PG_URL)._replace(path="/" + name))


def drop_pg_database(url):
    import psycopg2

    from avycenna.db import database

    if database.obj is not None and hasattr(database.obj, "close_all"):
        database.obj.close_all()
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
    conn.close()


def redis_reachable():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        return False
