"""Migrations build exactly the models' schema, keep data, and schema.sql never drifts."""
import os

from avycenna.migrate import SCHEMA_SQL, pending_diff, schema_sql


def test_schema_sql_matches_models():
    with open(SCHEMA_SQL) as fh:
        assert fh.read() == schema_sql(), "schema.sql drifted: run `flask --app app db schema`"


def test_migrations_leave_nothing_pending(app):
    with app.app_context():
        assert not pending_diff(), "models changed without a migration: run `flask --app app db make NAME`"


def test_upgrade_keeps_existing_data(tmp_path, monkeypatch):
    from avycenna import create_app
    from avycenna.auth.users import create_user, find_user_by_email
    from avycenna.db import database
    from avycenna.migrate import upgrade

    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x" * 32})
    runner = app.test_cli_runner()
    assert "applied" in runner.invoke(args=["db", "upgrade"]).output
    with app.app_context(), database.obj.connection_context():
        create_user("keep@example.test")
    result = runner.invoke(args=["db", "upgrade"])
    assert "up to date" in result.output
    with app.app_context(), database.obj.connection_context():
        assert upgrade() == []
        assert find_user_by_email("keep@example.test") is not None
    assert os.path.exists(tmp_path / "avycenna.sqlite3")
