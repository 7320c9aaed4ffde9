"""Fixtures: an app on its own database (SQLite file, or a fresh PostgreSQL database
when AVYCENNA_TEST_DATABASE_URL is set), a client, a CLI runner, and sign-in helpers.

Backends come from the environment so the same suite runs both ways:
  AVYCENNA_TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test
  AVYCENNA_TEST_REDIS_URL=redis://127.0.0.1:6379/0
"""
import os
import uuid

import pytest

from tests import backends


class BodyGuard:
    """Who parses a request's raw body: anything but the strict reader (`avycenna.jsonbody._read`)
    calling `json.loads` on the current request's body is a violation. Flask's `get_json`
    (`app.json`, werkzeug's `json_module`) and webargs all parse with `json.loads`, so each
    of them is caught. Only the raw body counts: a library loading its own JSON (the MCP
    SDK reading its output, a job reading its payload) is none of its business."""

    def __init__(self):
        self.violations = []

    def get_data(self, real):
        def get_data(request, *args, **kwargs):
            data = real(request, *args, **kwargs)
            if data:
                request._guarded_raw_body = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
            return data
        return get_data

    def loads(self, real):
        def loads(s, *args, **kwargs):
            if self.is_raw_body(s) and not self.in_strict_reader():
                import traceback
                self.violations.append("".join(traceback.format_stack(limit=8)[:-1]))
            return real(s, *args, **kwargs)
        return loads

    @staticmethod
    def is_raw_body(s):
        import flask

        if not isinstance(s, (str, bytes, bytearray)) or not flask.has_request_context():
            return False
        raw = getattr(flask.request._get_current_object(), "_guarded_raw_body", None)
        if not raw or len(s) > len(raw):
            return False
        return (s if not isinstance(s, str) else s.encode("utf-8", "surrogatepass")) == raw

    @staticmethod
    def in_strict_reader():
        import sys

        from avycenna import jsonbody

        reader = getattr(getattr(jsonbody, "_read", None), "__code__", None)
        frame = sys._getframe(2)
        while frame is not None:
            # The MCP SDK parses the message /mcp hands it: the strict reader's value, re-encoded.
            if frame.f_code is reader or f"{os.sep}mcp{os.sep}server{os.sep}" in frame.f_code.co_filename:
                return True
            frame = frame.f_back
        return False


@pytest.fixture(autouse=True)
def one_body_reader(monkeypatch):
    """Every test: nothing but the strict reader parses a request's body (the test fails if
    anything does). A test of the guard itself may read and clear `violations`."""
    import json

    from werkzeug.wrappers import Request

    guard = BodyGuard()
    monkeypatch.setattr(Request, "get_data", guard.get_data(Request.get_data))
    monkeypatch.setattr(json, "loads", guard.loads(json.loads))
    yield guard
    if guard.violations:
        pytest.fail("a request body was parsed outside the strict reader (avycenna.jsonbody):\n"
                    + guard.violations[0], pytrace=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = backends.create_test_database(tmp_path_factory.mktemp("db"))
    yield url
    backends.drop_test_database(url)


@pytest.fixture(scope="session")
def redis_url():
    return os.environ.get("AVYCENNA_TEST_REDIS_URL")


@pytest.fixture
def app_config(database_url, redis_url, tmp_path):
    """The test config for create_app; tests may change it before using `app`."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "RATELIMIT_KEY_PREFIX": "avytest-" + uuid.uuid4().hex,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "QUEUE_NAME": "avytest-" + uuid.uuid4().hex,
    }
    if redis_url:
        config["RATELIMIT_STORAGE_URI"] = redis_url
        config["QUEUE_URL"] = redis_url
    return config


@pytest.fixture
def app(app_config):
    from avycenna import create_app
    from avycenna.migrate import upgrade

    app = create_app(app_config)
    with app.app_context():
        upgrade()
    yield app
    backends.empty_tables()


@pytest.fixture
def owner(make_user):
    """An account holder (for tests about one member's patient)."""
    return make_user("member")


@pytest.fixture
def patient(app, owner):
    """One patient of `owner`."""
    from tests.factories import make_patient

    return make_patient(app, owner)


@pytest.fixture
def headers(token_for, owner):
    """`owner`'s access-token headers."""
    return token_for(owner)


@pytest.fixture
def job_worker(app):
    """Real huey consumers (worker threads of both queues) running the test app's background jobs."""
    from avycenna import jobs

    consumers = jobs.make_consumers(app, workers=2).start()
    yield consumers
    consumers.stop(graceful=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user(role="member", email=None, password=None) → User."""
    from avycenna.auth.users import create_user
    from avycenna.db import database

    def make(role="member", email=None, password=None, name="Test Person"):
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.test"
        with app.app_context(), database.obj.connection_context():
            return create_user(email, role=role, name=name, password=password)
    return make


@pytest.fixture
def token_for(app):
    """token_for(user) → Authorization headers with a fresh access token."""
    from avycenna.auth.tokens import issue_access_token

    def headers(user):
        with app.app_context():
            return {"Authorization": "Bearer " + issue_access_token(user)}
    return headers


@pytest.fixture
def key_for(app):
    """key_for(user) → X-API-Key headers with a new API key."""
    from avycenna.api_keys.service import create_key
    from avycenna.db import database

    def headers(user, name="test key"):
        with app.app_context(), database.obj.connection_context():
            _, key = create_key(user, name)
        return {"X-API-Key": key}
    return headers


class Mailbox:
    """What a real SMTP server on 127.0.0.1 received: parsed `email.message.EmailMessage`s."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        content = envelope.content.replace(b"\r\n", b"\n")
        self.messages.append(message_from_bytes(content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address):
        """Every message sent to `address`, oldest first."""
        return [m for m in self.messages if m["To"] == address]

    def last_body(self, address):
        return self.to(address)[-1].get_content()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(app):
    """A real aiosmtpd server on loopback, and the app configured to send through it."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=controller.port)
    yield box
    controller.stop()



@pytest.fixture
def receiver(app):
    """A real HTTP receiver on 127.0.0.1 (tests/webhook_receiver.py) the app may deliver to."""
    from tests.webhook_receiver import Receiver

    app.config.update(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    r = Receiver().start()
    yield r
    r.stop()


from tests.web_fixtures import browser, live_server, page, phone, tabs  # noqa: E402,F401 (browser tests)
