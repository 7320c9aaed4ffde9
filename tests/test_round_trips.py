"""The budget of round trips per request, for each endpoint class: SQL statements through
Peewee and round trips to Redis (rate-limit storage). Counts, not times: a change that adds
a query to every request fails here, on a noisy machine as on a quiet one.
`python -m bench scaleout` prints the same counts beside its throughput.

Where the counts come from (PostgreSQL + Redis):
- every authenticated request: 1 SELECT of the credential's account, 1 Redis round trip for
  its budget (limits' two moving-window scripts in one pipeline);
- a list: + the page's SELECT and one INSERT of its audit events (one row per patient shown);
- ingest: the samples' upsert, the source's id (one SELECT once it exists), the audit event
  and the `wearables.ingested` event in one transaction (PostgreSQL adds the explicit BEGIN SQLite's driver sends itself);
- the agent query: its named budgets are flask-limiter's (per address and per hour, checked
  and then hit one by one: its own request path, kept as it is).
"""
import pytest
import redis

from avycenna.db import is_sqlite
from tests.factories import make_patient
from tests.round_trips import endpoint_classes, measure

# (SQL statements on SQLite, on PostgreSQL, Redis round trips when Redis holds the budgets)
BUDGETS = {
    "health": (1, 1, 0),
    "read with a JWT": (1, 1, 1),
    "read with an API key": (1, 1, 1),
    "list": (3, 3, 1),
    "ingest": (8, 9, 1),
    "agent query": (4, 4, 10),
}


@pytest.fixture
def classes(app, client, make_user, token_for, key_for):
    owner = make_user("member")
    patients = [make_patient(app, owner, relationship=r, name=f"Pat {r}") for r in ("self", "child", "child")]
    return endpoint_classes(client, token_for(owner), key_for(owner), patients[0].id)


def test_every_endpoint_class_keeps_its_round_trip_budget(app, classes, redis_url):
    assert [name for name, _, _ in classes] == list(BUDGETS)
    with app.app_context():
        sqlite = is_sqlite()
    seen = {}
    for name, make_request, expected in classes:
        seen[name] = measure(make_request, expected)
    budget = {name: (b[0] if sqlite else b[1], b[2] if redis_url else 0) for name, b in BUDGETS.items()}
    over = {name: (seen[name], budget[name]) for name in BUDGETS
            if seen[name][0] > budget[name][0] or seen[name][1] > budget[name][1]}
    assert not over, f"over budget (seen, budget): {over}"
    assert seen["list"][0] == seen["read with a JWT"][0] + 2  # a longer page costs no more statements


def test_a_redis_that_lost_its_scripts_still_counts_budgets(app, client, make_user, token_for, redis_url):
    if not redis_url:
        pytest.skip("set AVYCENNA_TEST_REDIS_URL to run the Redis test")
    app.config["RATELIMIT_JWT"] = "3/minute"
    headers = token_for(make_user("member"))
    remaining = [client.get("/api/v1/auth/me", headers=headers).headers["X-RateLimit-Remaining"]]
    redis.Redis.from_url(redis_url).script_flush()  # as after a Redis restart
    remaining += [client.get("/api/v1/auth/me", headers=headers).headers["X-RateLimit-Remaining"] for _ in range(2)]
    assert remaining == ["2", "1", "0"]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 429
