"""The OpenAPI document tells the truth: schemathesis, with every check, as each kind of caller.

schemathesis reads `/openapi.json` from the app served by waitress on loopback, generates requests for
every operation over real HTTP (the schema's examples, its coverage cases — including wrong methods,
missing and invalid values — and random fuzzing) and checks each response against the
document: status codes, content types, headers and bodies; that invalid data is refused
and valid data accepted; that a wrong credential is refused. Every operation is a subtest.

Valid data is accepted: a request the document calls valid may be refused for who asks
(401/403/404/409) or the budget (429), never as invalid (422) — the document states every
limit. Three values are valid only by the state of the world, so the test supplies them where
schemathesis drew a valid one (`before_call`): a cursor (only the server makes them: it is
left out, as a client without one would), a webhook URL's host (it must resolve to an allowed
address: the loopback server, which WEBHOOK_ALLOWED_HOSTS allows here) and an Idempotency-Key
(one not used before with another body: a fresh one, as a client makes for a new request).

Bounded so the module takes about two minutes of CPU on two cores: a few fuzzed examples per
operation (AVYCENNA_FUZZ_EXAMPLES raises it for a longer local run), a fixed seed.
"""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import schemathesis
from hypothesis import strategies as st

from tests import backends

ROLES = ("anonymous", "member", "clinician", "admin")
EXAMPLES = int(os.environ.get("AVYCENNA_FUZZ_EXAMPLES", "3"))

# Documented-valid data is accepted: a 400, 415 or 422 for it fails the check.
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "429"]
SERVER = {}  # the live server's URL, for supply_world_values
# Limits out of the way (the limiter is shared by every app in the process, so it stays enabled).
UNLIMITED = {name: "1000000/minute" for name in (
    "RATELIMIT_ANONYMOUS", "RATELIMIT_JWT", "RATELIMIT_API_KEY", "RATELIMIT_AUTH", "RATELIMIT_OTP_EMAIL",
    "RATELIMIT_OTP_IP", "RATELIMIT_WEB", "AGENT_QUERY_RATE_LIMIT")}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """One app for the whole module (every role and operation), on its own database."""
    from avycenna import create_app
    from avycenna.db import database
    from avycenna.migrate import upgrade

    tmp = tmp_path_factory.mktemp("fuzz")
    url = backends.create_test_database(tmp)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url,
                      "SECRET_KEY": "fuzz-" + uuid.uuid4().hex, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
                      "PUBLIC_BASE_URL": "http://127.0.0.1:8000", "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"],
                      **UNLIMITED})
    with app.app_context():
        upgrade()
    yield app
    database.obj.close_all()
    backends.drop_test_database(url)


@pytest.fixture(scope="module")
def credentials(fuzz_app):
    """X-API-Key headers of a member, a clinician and an admin (each with a patient of their own)."""
    from avycenna.api_keys.service import create_key
    from avycenna.auth.users import create_user
    from avycenna.db import database

    headers = {"anonymous": {}}
    with fuzz_app.app_context(), database.obj.connection_context():
        for role in ROLES[1:]:
            user = create_user(f"{role}-fuzz@example.test", role=role, name=f"Fuzz {role.title()}")
            headers[role] = {"X-API-Key": create_key(user, "fuzz")[1]}
    client = fuzz_app.test_client()
    for role in ROLES[1:]:
        client.post("/api/v1/patients", headers=headers[role],
                    json={"name": "Fuzz Self", "date_of_birth": "1980-05-06", "relationship": "self"})
    return headers


@pytest.fixture(scope="module")
def fuzz_server(fuzz_app):
    """The app served by waitress on loopback: schemathesis talks real HTTP to it."""
    from tests.web_fixtures import LiveServer

    server = LiveServer(fuzz_app).start()
    SERVER["url"] = server.url
    yield server.url
    server.stop()
    SERVER.clear()


# A resumable upload's piece (tus PATCH) is raw bytes.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))
# Framing is the HTTP client's own: a malformed Content-Length is answered by waitress itself, in
# plain text, before the application sees the request (docs/api.md), like a body over its limit.
FRAMING = ("content-length", "transfer-encoding")


@schemathesis.hook
def before_call(context, case, kwargs):
    """Where schemathesis drew a valid value that only the world can make valid, supply it."""
    for name in [n for n in (case.headers or {}) if n.lower() in FRAMING]:
        del case.headers[name]
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not SERVER:
        return
    if case.query and case.query.get("cursor"):
        del case.query["cursor"]
    for name in list(case.headers or ()):
        if name.lower() == "idempotency-key":
            case.headers[name] = uuid.uuid4().hex
    body = case.body
    if "webhook-endpoints" in case.path and isinstance(body, dict) and isinstance(body.get("url"), str):
        parts, server = urlsplit(body["url"]), urlsplit(SERVER["url"])
        body["url"] = urlunsplit(("http", server.netloc, parts.path, parts.query, ""))


def run_schemathesis(url, headers):
    """Every phase but the stateful one over every operation; the failures as readable lines."""
    from schemathesis import engine
    from schemathesis.engine import Status, events

    config = schemathesis.Config.from_dict({
        "seed": 20261203,
        "cache": {"enabled": False},  # no failure database written into the work tree
        "suppress-health-check": ["all"],
        "generation": {"max-examples": EXAMPLES},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        "headers": headers,
    })
    schema = schemathesis.openapi.from_url(url + "/openapi.json", config=config)
    failures, tested = [], set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, (events.FatalError, events.NonFatalError)):
            failures.append(f"{getattr(event, 'label', '')}: {event.info.format() if hasattr(event, 'info') else event}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        tested.add(event.recorder.label)
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    failures.append(f"{event.recorder.label} [{check.name}] {failure.title}: "
                                    f"{failure.message}\n    {check.failure_info.code_sample}")
    return tested, sorted(set(failures))


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_agrees_with_the_document(fuzz_app, fuzz_server, credentials, role):
    tested, failures = run_schemathesis(fuzz_server, credentials[role])
    operations = [f"{m.upper()} {p}" for p, ops in fuzz_app.test_client().get("/openapi.json").get_json()["paths"].items()
                  for m in ops if m != "parameters"]
    assert set(operations) <= tested
    assert not failures, f"{len(failures)} disagreement(s) as {role}:\n" + "\n".join(failures)
