"""The database each test run uses: a SQLite file, or a throwaway PostgreSQL database."""
import os
import uuid
from urllib.parse import urlparse, urlunparse


def create_test_database(tmp_dir):
    base = os.environ.get("AVYCENNA_TEST_DATABASE_URL")
    if not base:
        return "sqlite:///" + os.path.join(str(tmp_dir), "test.sqlite3")
    import psycopg2

    name = "avytest_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(urlparse(base)._replace(path="/" + name))


def drop_test_database(url):
    if not url.startswith("postgres"):
        return
    import psycopg2

    from avycenna.db import database

    if database.obj is not None:
        database.obj.close_all() if hasattr(database.obj, "close_all") else database.close()
    base = os.environ["AVYCENNA_TEST_DATABASE_URL"]
    name = urlparse(url).path.lstrip("/")
    conn = psycopg2.connect(base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def empty_tables():
    """Delete every row (keeping the schema) so the next test starts clean."""
    from peewee import sort_models

    from avycenna.db import database
    from avycenna.models import all_models

    with database.obj.connection_context():
        with database.obj.atomic():
            for model in reversed(sort_models(all_models())):
                model.delete().execute()
