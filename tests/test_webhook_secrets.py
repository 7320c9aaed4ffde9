"""Each endpoint's signing secret is its own: a SECRET_KEY rotation, or a restore under another
key, changes nothing; rotating the endpoint's secret keeps the old one valid for the overlap
(both signatures sent), verified with the `standardwebhooks` library as a receiver would."""
import base64
import hashlib
import hmac
import time
import uuid

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from avycenna.db import database
from avycenna.webhooks import delivery
from tests import backends
from tests.webhook_receiver import Receiver

HOOKS = "/api/v1/webhook-endpoints"


@pytest.fixture
def member(make_user, token_for):
    return token_for(make_user())


def register(client, headers, url):
    r = client.post(HOOKS, json={"url": url}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def send_test(app, client, headers, endpoint_id):
    """Queue a test event and send it at once, as a worker would; returns the delivery's log row."""
    assert client.post(f"{HOOKS}/{endpoint_id}/test", headers=headers).status_code == 202
    with app.app_context(), database.obj.connection_context():
        for delivery_id in delivery.due():
            delivery.deliver(delivery_id)
    return client.get(f"{HOOKS}/{endpoint_id}/deliveries", headers=headers).get_json()["data"][0]


def last_request(receiver):
    _, headers, body = receiver.requests[-1]
    return headers, body


def verifies(secret, receiver):
    headers, body = last_request(receiver)
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def test_rotation_sends_both_signatures_during_the_overlap_then_only_the_new(app, client, member, receiver):
    app.config["WEBHOOK_SECRET_OVERLAP"] = 2
    hook = register(client, member, receiver.url())
    old = hook["secret"]
    r = client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=member)
    assert r.status_code == 200, r.get_json()
    rotated = r.get_json()
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != old and len(base64.b64decode(new[6:])) == 32
    assert rotated["id"] == hook["id"] and rotated["previous_secret_expires_at"]
    shown = client.get(f"{HOOKS}/{hook['id']}", headers=member).get_json()
    assert "secret" not in shown and shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]

    assert send_test(app, client, member, hook["id"])["status"] == "delivered"
    headers, _ = last_request(receiver)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, receiver) and verifies(new, receiver)  # either receiver verifies

    time.sleep(2.1)  # the overlap ends
    assert send_test(app, client, member, hook["id"])["status"] == "delivered"
    headers, _ = last_request(receiver)
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert verifies(new, receiver) and not verifies(old, receiver)


def test_a_second_rotation_ends_the_oldest_secret_at_once(app, client, member, receiver):
    hook = register(client, member, receiver.url())
    first = hook["secret"]
    second = client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=member).get_json()["secret"]
    third = client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=member).get_json()["secret"]
    send_test(app, client, member, hook["id"])
    assert verifies(third, receiver) and verifies(second, receiver) and not verifies(first, receiver)


def test_without_a_rotation_one_signature_is_sent(app, client, member, receiver):
    hook = register(client, member, receiver.url())
    send_test(app, client, member, hook["id"])
    headers, _ = last_request(receiver)
    assert " " not in headers["webhook-signature"] and verifies(hook["secret"], receiver)
    assert client.get(f"{HOOKS}/{hook['id']}", headers=member).get_json()["previous_secret_expires_at"] is None


def test_another_accounts_endpoint_cannot_be_rotated(client, member, make_user, token_for):
    hook = register(client, member, "https://93.184.215.14/hooks")
    other = token_for(make_user())
    assert client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=other).status_code == 404
    assert client.post(f"{HOOKS}/whe_nope/rotate-secret", headers=member).status_code == 404
    assert client.post(f"{HOOKS}/{hook['id']}/rotate-secret").status_code == 401


def test_a_rotation_is_audited(app, client, member):
    from avycenna.audit.models import AuditEvent

    hook = register(client, member, "https://93.184.215.14/hooks")
    client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=member)
    with app.app_context(), database.obj.connection_context():
        assert AuditEvent.select().where((AuditEvent.action == "webhook_endpoint.rotate_secret")
                                         & (AuditEvent.target_id == hook["id"])).count() == 1


def test_a_new_secret_key_leaves_every_signature_verifiable(app, app_config, client, member, receiver):
    """The server's SECRET_KEY is rotated (or a backup restored under another key): same database,
    a new app with another key, and the integrator's secret still verifies."""
    from avycenna import create_app

    hook = register(client, member, receiver.url())
    rotated_key = create_app({**app_config, "SECRET_KEY": "rotated-" + uuid.uuid4().hex,
                              "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"]})
    with rotated_key.app_context(), database.obj.connection_context():
        from avycenna.webhooks import events
        from avycenna.webhooks.models import WebhookEndpoint

        endpoint = WebhookEndpoint.get_by_id(hook["id"])
        [delivery_id] = events.queue([endpoint], events.TEST_EVENT, {"endpoint_id": endpoint.id})
        delivery.deliver(delivery_id)
    assert len(receiver.requests) == 1 and verifies(hook["secret"], receiver)


def derived(secret_key, salt):
    """How the secret of an endpoint was made before migration 0017."""
    raw = hmac.new(secret_key.encode(), b"webhook-secret:" + salt.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw).decode()


@pytest.fixture
def app_at_0016(tmp_path):
    """An app on its own new database, migrated up to 0016 (secrets derived from SECRET_KEY)."""
    from avycenna import create_app
    from avycenna.migrate import runner

    url = backends.create_test_database(tmp_path)
    old = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
                      "SECRET_KEY": "old-" + uuid.uuid4().hex, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
                      "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"]})
    with old.app_context(), database.obj.connection_context():
        runner().up("0016_encounter_list_index")
    yield old
    database.obj.close_all() if hasattr(database.obj, "close_all") else database.obj.close()
    backends.drop_test_database(url)


def test_the_upgrade_keeps_each_endpoints_secret_of_today(app_at_0016):
    from datetime import datetime

    from peewee import Table

    from avycenna.migrate import upgrade
    from avycenna.webhooks import events
    from avycenna.webhooks.models import WebhookEndpoint

    users = Table("user", ("id", "email", "name", "role", "is_active", "created_at"))
    endpoints = Table("webhook_endpoint", ("id", "user_id", "url", "events", "secret_salt", "status",
                                           "created_at", "updated_at"))
    now = datetime(2026, 11, 1)
    receiver = Receiver().start()  # (not the fixture: that one builds the suite's app)
    with app_at_0016.app_context(), database.obj.connection_context():
        users.bind(database.obj).insert(id="usr_old", email="old@example.test", name="", role="member",
                                        is_active=True, created_at=now).execute()
        for n in (1, 2):
            endpoints.bind(database.obj).insert(id=f"whe_old{n}", user_id="usr_old", url=receiver.url(),
                                                events="", secret_salt=f"{n}" * 32, status="active",
                                                created_at=now, updated_at=now).execute()
        before = {f"whe_old{n}": derived(app_at_0016.secret_key, f"{n}" * 32) for n in (1, 2)}
        assert "0017_webhook_secrets" in upgrade()
        for endpoint_id, secret in before.items():
            endpoint = WebhookEndpoint.get_by_id(endpoint_id)
            assert endpoint.secret == secret and endpoint.previous_secret is None
            [delivery_id] = events.queue([endpoint], events.TEST_EVENT, {"endpoint_id": endpoint_id})
            delivery.deliver(delivery_id)
            assert verifies(secret, receiver)
    receiver.stop()
    assert len(receiver.requests) == 2


def test_a_backup_restored_under_another_key_keeps_every_secret(app, app_config, client, member, runner,
                                                                   tmp_path):
    """A backup restored into a new instance whose server runs under another SECRET_KEY: the
    endpoint's current and previous secrets both still verify."""
    from avycenna import create_app
    from avycenna.webhooks import events
    from avycenna.webhooks.models import WebhookEndpoint

    receiver = Receiver().start()
    app.config["WEBHOOK_ALLOWED_HOSTS"] = ["127.0.0.1"]
    hook = register(client, member, receiver.url())
    new = client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=member).get_json()["secret"]
    result = runner.invoke(args=["backup", str(tmp_path / "backups") + "/"])
    assert result.exit_code == 0, result.output
    path = result.output.split("backup: ")[1].split()[0]

    (tmp_path / "restored-db").mkdir()
    url = backends.create_test_database(tmp_path / "restored-db")
    restored = create_app({**app_config, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "restored"),
                           "SECRET_KEY": "another-" + uuid.uuid4().hex, "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"]})
    try:
        outcome = restored.test_cli_runner().invoke(args=["restore", path])
        assert outcome.exit_code == 0, outcome.output
        with restored.app_context(), database.obj.connection_context():
            endpoint = WebhookEndpoint.get_by_id(hook["id"])
            [delivery_id] = events.queue([endpoint], events.TEST_EVENT, {"endpoint_id": endpoint.id})
            delivery.deliver(delivery_id)
        assert len(receiver.requests) == 1
        assert verifies(new, receiver) and verifies(hook["secret"], receiver)
    finally:
        receiver.stop()
        database.obj.close_all() if hasattr(database.obj, "close_all") else database.obj.close()
        create_app(app_config)  # the suite's database again, for this test's clean-up
        backends.drop_test_database(url)


def test_the_upgrade_after_a_restore_keeps_the_secrets_the_backups_key_made(tmp_path):
    """A restore puts the backup's key in instance/secret_key, then upgrades: an old backup's
    endpoints get the secrets its own key derived, not ones from the key the process started with."""
    from datetime import datetime

    from peewee import Table

    from avycenna import create_app
    from avycenna.migrate import runner, upgrade
    from avycenna.webhooks.models import WebhookEndpoint

    url = backends.create_test_database(tmp_path)
    instance = tmp_path / "instance"
    old = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": url,
                      "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex})  # the key is generated into instance/
    try:
        with old.app_context(), database.obj.connection_context():
            runner().up("0016_encounter_list_index")
            Table("user", ("id", "email", "name", "role", "is_active", "created_at")).bind(database.obj).insert(
                id="usr_old", email="old@example.test", name="", role="member", is_active=True,
                created_at=datetime(2026, 11, 1)).execute()
            Table("webhook_endpoint", ("id", "user_id", "url", "events", "secret_salt", "status", "created_at",
                                       "updated_at")).bind(database.obj).insert(
                id="whe_old", user_id="usr_old", url="https://93.184.215.14/", events="", secret_salt="ab" * 16,
                status="active", created_at=datetime(2026, 11, 1), updated_at=datetime(2026, 11, 1)).execute()
            (instance / "secret_key").write_text("the-backups-own-key")  # as install_key does
            upgrade()
            assert WebhookEndpoint.get_by_id("whe_old").secret == derived("the-backups-own-key", "ab" * 16)
    finally:
        database.obj.close_all() if hasattr(database.obj, "close_all") else database.obj.close()
        backends.drop_test_database(url)
