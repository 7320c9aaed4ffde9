"""Redis going away and coming back, on one process: a redis-server this test starts on a port
of its own, stops, and starts again (never the machine's Redis).

While it is away the per-credential budgets count in the process's memory (one budget per
process: what the fault drill's "budget times the number of app hosts" measures), requests
that queue jobs still succeed, the admin status and /metrics say so; once it is back the
budgets are counted in Redis again and the first enqueue that works sends the webhook sweep
after what was left behind. A Redis that accepts connections and never answers costs a
request REDIS_TIMEOUT, not a hang.
"""
import shutil
import socket
import subprocess
import time

import pytest
import redis

from avycenna import ratelimit
from avycenna.jobs import huey
from tests.conftest import free_port

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server (Debian's redis-server)")
BUDGET = 5


class OwnRedis:
    """A redis-server on 127.0.0.1:<free port>, with nothing saved to disk."""

    def __init__(self, folder):
        self.port = free_port()
        self.folder = folder
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def on_own_redis(app_config, own_redis, monkeypatch):
    """The app's rate limits and queue on `own_redis`, a small API-key budget, and a fallback
    that asks Redis again after 0.2 s (5 s in production)."""
    monkeypatch.setattr(ratelimit, "RETRY_STORAGE_AFTER", 0.2)
    app_config.update(RATELIMIT_STORAGE_URI=own_redis.url, QUEUE_URL=own_redis.url,
                      RATELIMIT_API_KEY=f"{BUDGET}/minute")


@pytest.fixture
def outage_app(on_own_redis, app):
    return app


@pytest.fixture
def silent_redis(app_config):
    """A Redis behind a cut link: the connection opens (or not), nothing ever comes back."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # never accepted, never answered
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        app_config.update(RATELIMIT_STORAGE_URI=url, QUEUE_URL=url, REDIS_TIMEOUT=0.3)
        yield url


def spend(client, headers, count=2 * BUDGET):
    statuses = [client.get("/api/v1/auth/me", headers=headers) for _ in range(count)]
    assert all(r.headers["Retry-After"] for r in statuses if r.status_code == 429)
    return [r.status_code for r in statuses]


def fallbacks(client, admin):
    scrape = client.get("/metrics", headers=admin).get_data(as_text=True)
    line = next(line for line in scrape.splitlines() if line.startswith("avycenna_ratelimit_fallbacks_total"))
    return float(line.split()[-1])


def test_budgets_count_per_process_while_redis_is_away_and_are_shared_again_after(
        outage_app, own_redis, make_user, key_for, token_for):
    client = outage_app.test_client()
    member, admin = make_user(), token_for(make_user(role="admin"))
    assert spend(client, key_for(member)) == [200] * BUDGET + [429] * BUDGET
    assert client.get("/api/v1/admin/status", headers=admin).get_json()["rate_limits"] == {
        "storage": "redis", "counting": "shared", "last_fallback_at": None}
    before = fallbacks(client, admin)

    own_redis.stop()
    assert spend(client, key_for(member)) == [200] * BUDGET + [429] * BUDGET  # this process's own count
    status = client.get("/api/v1/admin/status", headers=admin).get_json()
    assert status["rate_limits"]["counting"] == "per_process" and status["rate_limits"]["last_fallback_at"]
    assert status["queue"]["pending_jobs"] is None
    assert fallbacks(client, admin) == before + 1

    own_redis.start()  # an empty Redis: the counts start again there
    time.sleep(0.3)  # past RETRY_STORAGE_AFTER
    key = key_for(member)
    assert spend(client, key) == [200] * BUDGET + [429] * BUDGET
    stored = redis.Redis.from_url(own_redis.url).keys(f"*{outage_app.config['RATELIMIT_KEY_PREFIX']}*")
    assert stored, "the budget was not counted in Redis once it was back"
    assert client.get("/api/v1/admin/status", headers=admin).get_json()["rate_limits"]["counting"] == "shared"


def test_events_while_redis_is_away_are_swept_when_it_is_back(outage_app, own_redis, make_user, token_for):
    from avycenna.webhooks.tasks import sweep

    client = outage_app.test_client()
    clinician, holder = make_user(role="clinician"), make_user()
    outage_app.config["WEBHOOK_ALLOWED_HOSTS"] = ["127.0.0.1"]
    endpoint = client.post("/api/v1/webhook-endpoints", headers=token_for(clinician),
                           json={"url": "http://127.0.0.1:9/hook"})
    assert endpoint.status_code == 201, endpoint.get_json()

    own_redis.stop()
    asked = client.post("/api/v1/grants", headers=token_for(clinician),
                        json={"email": holder.email, "scopes": ["wearables"]})
    assert asked.status_code == 201  # its delivery is in the database; the queue could not take it

    own_redis.start()
    asked = client.post("/api/v1/grants", headers=token_for(clinician),
                        json={"email": holder.email, "scopes": ["wearables"]})
    assert asked.status_code == 201
    queued = [task.name for task in huey.pending()]
    assert sweep.task_class.__name__ in queued, queued  # the first enqueue that worked sent the sweep too


def test_a_redis_that_never_answers_costs_a_request_its_timeout(silent_redis, app, make_user, key_for):
    """REDIS_TIMEOUT (0.3 s here) ends the wait: the budget is counted in memory, the request answered."""
    started = time.monotonic()
    response = app.test_client().get("/api/v1/auth/me", headers=key_for(make_user()))
    assert response.status_code == 200 and response.headers["X-RateLimit-Remaining"]
    assert time.monotonic() - started < 30  # not the minutes a TCP connect to a dead host can take
