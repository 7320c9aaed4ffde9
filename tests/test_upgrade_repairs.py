"""Upgrading a database whose old data breaks a newer rule repairs it and still starts."""
import logging
import uuid
from datetime import datetime

import pytest
from peewee import Table

from tests import backends


@pytest.fixture
def old_app(tmp_path):
    """An app on its own new database, migrated only up to 0005 (before one-self-per-account)."""
    from avycenna import create_app
    from avycenna.db import database
    from avycenna.migrate import runner

    url = backends.create_test_database(tmp_path)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
                      "SECRET_KEY": "old-" + uuid.uuid4().hex, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex})
    with app.app_context(), database.obj.connection_context():
        runner().up("0005_grants_wearables")
    yield app
    database.obj.close_all()
    backends.drop_test_database(url)


def insert_old_rows(app):
    """Two live `self` patients on one account, and one on another (as SQL at 0005 allowed)."""
    from avycenna.db import database

    users = Table("user", ("id", "email", "name", "role", "is_active", "created_at"))
    patients = Table("patient", ("id", "account_id", "name", "date_of_birth", "relationship",
                                 "id_verification_status", "created_at", "updated_at"))
    with app.app_context(), database.obj.connection_context():
        for user_id in ("usr_old1", "usr_old2"):
            users.bind(database.obj).insert(id=user_id, email=f"{user_id}@example.test", name="", role="member",
                                            is_active=True, created_at=datetime(2026, 1, 1)).execute()
        rows = [("usr_old1", "First Self", datetime(2026, 1, 1)), ("usr_old1", "Second Self", datetime(2026, 2, 1)),
                ("usr_old2", "Only Self", datetime(2026, 1, 1))]
        for account, name, created in rows:
            patients.bind(database.obj).insert(
                id=str(uuid.uuid4()), account_id=account, name=name, date_of_birth=datetime(1990, 1, 1).date(),
                relationship="self", id_verification_status="unverified",
                created_at=created, updated_at=created).execute()


def test_two_live_self_patients_are_repaired_and_the_server_starts(old_app, caplog):
    from avycenna.api_keys.service import create_key
    from avycenna.auth.models import User
    from avycenna.db import database
    from avycenna.migrate import upgrade

    insert_old_rows(old_app)
    caplog.set_level(logging.INFO)
    with old_app.app_context():
        applied = upgrade()
    assert "0006_one_self_per_account" in applied
    assert "1 extra live `self` patient(s)" in caplog.text and "Second Self" not in caplog.text

    with old_app.app_context(), database.obj.connection_context():
        _, key = create_key(User.get_by_id("usr_old1"), "after upgrade")
    client = old_app.test_client()
    data = client.get("/api/v1/patients", headers={"X-API-Key": key}).get_json()["data"]
    assert {(p["name"], p["relationship"]) for p in data} == {("First Self", "self"), ("Second Self", "other")}
    r = client.post("/api/v1/patients", headers={"X-API-Key": key},
                    json={"name": "Third", "date_of_birth": "1991-01-01", "relationship": "self"})
    assert r.status_code == 409  # the rule now holds, enforced by the index


def test_a_clean_old_database_upgrades_without_a_repair(old_app, caplog):
    from avycenna.migrate import upgrade

    caplog.set_level(logging.INFO)
    with old_app.app_context():
        assert "0006_one_self_per_account" in upgrade()
    assert "extra live" not in caplog.text
