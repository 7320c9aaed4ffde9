"""The PostgreSQL pool hands a connection used within the last second straight back (no
`SELECT 1` round trip at check-out) and still replaces one the server has dropped."""
import psycopg2
import pytest

from avycenna.db import PostgresPool, database


@pytest.fixture
def pg_app(app):
    if not app.config["DATABASE_URL"].startswith("postgres"):
        pytest.skip("the PostgreSQL pool (set AVYCENNA_TEST_DATABASE_URL)")
    return app


def backend_pid(app):
    with app.app_context(), database.obj.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def terminate(app, pid):
    conn = psycopg2.connect(app.config["DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    conn.close()


def test_a_recently_used_connection_is_reused(pg_app):
    assert backend_pid(pg_app) == backend_pid(pg_app)


def test_an_idle_connection_the_server_dropped_is_replaced_unseen(pg_app, client, monkeypatch):
    monkeypatch.setattr(PostgresPool, "LIVE_FOR", 0.0)  # every check-out checks, as after a pause
    dropped = backend_pid(pg_app)
    terminate(pg_app, dropped)
    r = client.get("/health")
    assert r.status_code == 200 and r.get_json()["status"] == "healthy"
    assert backend_pid(pg_app) != dropped


def test_a_connection_dropped_within_the_second_fails_one_request_then_is_replaced(pg_app, client, monkeypatch):
    monkeypatch.setattr(PostgresPool, "LIVE_FOR", 3600.0)
    dropped = backend_pid(pg_app)
    terminate(pg_app, dropped)
    assert client.get("/health").status_code == 503  # the one request that held it
    r = client.get("/health")
    assert r.status_code == 200 and r.get_json()["status"] == "healthy"
    assert backend_pid(pg_app) != dropped
