"""Agent query budget (5/hour, 10/day per user, else session, else IP hash) and Idempotency-Key."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tests.agent_helpers import QUERY, ask, db_read

START = datetime(2026, 11, 22, 8, 0, 0)


@pytest.fixture
def member(make_user, token_for, key_for):
    user = make_user()
    return {"jwt": token_for(user), "key": key_for(user)}


def test_five_an_hour_then_429_with_retry_after(client):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            assert ask(client).status_code == 200
        r = ask(client)
        assert r.status_code == 429
        assert 0 < int(r.headers["Retry-After"]) <= 3601
        assert isinstance(r.get_json()["detail"], str) and "5 per 1 hour" in r.get_json()["detail"]
        clock.shift(timedelta(minutes=61))
        assert ask(client).status_code == 200


def test_ten_a_day(client):
    with time_machine.travel(START, tick=False) as clock:
        for hour in range(2):
            for _ in range(5):
                assert ask(client).status_code == 200
            clock.shift(timedelta(minutes=61))
        r = ask(client)
        assert r.status_code == 429 and "10 per 1 day" in r.get_json()["detail"]
        clock.shift(timedelta(hours=23))
        assert ask(client).status_code == 200


def test_signed_in_callers_budget_is_per_user_and_covers_follow_ups(client, make_user, token_for, key_for):
    with time_machine.travel(START, tick=False):
        user = make_user()
        member = {"jwt": token_for(user), "key": key_for(user)}  # JWTs issued on the travelled clock
        first = ask(client, member["key"]).get_json()
        for _ in range(2):
            assert ask(client, member["jwt"]).status_code == 200  # same user, other credential
        for _ in range(2):
            r = client.post(f"/api/v1/encounters/{first['encounter_id']}/queries", json={"query": QUERY},
                            headers=member["key"])
            assert r.status_code == 201
        assert ask(client, member["key"]).status_code == 429
        r = client.post(f"/api/v1/encounters/{first['encounter_id']}/queries", json={"query": QUERY},
                        headers=member["jwt"])
        assert r.status_code == 429
        assert ask(client, token_for(make_user())).status_code == 200  # another user: own budget


def test_rotating_session_tokens_from_one_address_does_not_multiply_the_budget(client):
    with time_machine.travel(START, tick=False) as clock:
        sessions = [ask(client).get_json()["session_token"] for _ in range(3)]
        for token in sessions[:2]:  # continuing counts against the address as well
            assert ask(client, session_token=token).status_code == 200
        for token in sessions:
            r = ask(client, session_token=token)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert ask(client).status_code == 429
        # From another address the session still has its own budget: 1 continuation used, 4 left.
        other = {"REMOTE_ADDR": "127.0.0.9"}
        for _ in range(4):
            assert client.post("/api/v1/agent/query", json={"query": QUERY, "session_token": sessions[0]},
                               environ_base=other).status_code == 200
        r = client.post("/api/v1/agent/query", json={"query": QUERY, "session_token": sessions[0]},
                        environ_base=other)
        assert r.status_code == 429  # the session's own 5 an hour
        clock.shift(timedelta(minutes=61))
        assert ask(client, session_token=sessions[1]).status_code == 200


def test_limits_are_configurable(app, client):
    app.config["AGENT_QUERY_RATE_LIMIT"] = "2/hour"
    with time_machine.travel(START, tick=False):
        assert [ask(client).status_code for _ in range(3)] == [200, 200, 429]


def test_raw_ip_never_used_as_a_key(app, client, redis_url):
    ask(client)
    from avycenna.ratelimit import limiter

    if redis_url:
        keys = [k.decode() for k in limiter.storage.storage.keys("*" + app.config["RATELIMIT_KEY_PREFIX"] + "*")]
    else:
        keys = list(limiter.storage.events) + list(limiter.storage.storage)
    agent_keys = [k for k in keys if "agent-query" in k]
    assert agent_keys and not any("127.0.0.1" in k for k in agent_keys)


# Idempotency-Key ----------------------------------------------------------------------------

def test_retry_with_same_key_and_body_replays_first_response(app, client):
    from avycenna.encounters.models import Encounter

    headers = {"Idempotency-Key": "retry-1"}
    first = ask(client, headers)
    second = ask(client, headers)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert db_read(app, lambda: Encounter.select().count()) == 1
    token = second.get_json()["encounter_token"]
    assert client.get(f"/api/v1/agent/encounters/{first.get_json()['encounter_id']}",
                      headers={"Authorization": "Bearer " + token}).status_code == 200


def test_replay_is_not_counted_against_the_budget(client):
    with time_machine.travel(START, tick=False):
        for _ in range(8):
            assert ask(client, {"Idempotency-Key": "same"}).status_code == 200
        for _ in range(4):
            assert ask(client).status_code == 200
        assert ask(client).status_code == 429


def test_same_key_different_body_is_422(client):
    assert ask(client, {"Idempotency-Key": "k"}).status_code == 200
    r = ask(client, {"Idempotency-Key": "k"}, query="Another question entirely. " * 30)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_keys_are_per_caller_and_expire_after_a_day(app, client, member):
    from avycenna.encounters.models import Encounter

    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=1), tick=False) as clock:
        anon = ask(client, {"Idempotency-Key": "k"}).get_json()
        mine = ask(client, {"Idempotency-Key": "k", **member["key"]}).get_json()
        assert anon["encounter_id"] != mine["encounter_id"]
        clock.shift(timedelta(hours=25))
        later = ask(client, {"Idempotency-Key": "k"}).get_json()
    assert later["encounter_id"] != anon["encounter_id"]
    assert db_read(app, lambda: Encounter.select().count()) == 3


def test_session_continuation_replay_and_stored_record_holds_no_token(app, client):
    from avycenna.encounters.models import IdempotencyRecord

    first = ask(client, {"Idempotency-Key": "a"}).get_json()
    cont = {"session_token": first["session_token"], "query": "More detail. " * 50}
    one = ask(client, {"Idempotency-Key": "b"}, **cont).get_json()
    two = ask(client, {"Idempotency-Key": "b"}, **cont).get_json()
    assert one == two and one["encounter_id"] == first["encounter_id"]
    rows = db_read(app, lambda: list(IdempotencyRecord.select()))
    assert len(rows) == 2
    for row in rows:
        for secret in (first["session_token"], first["encounter_token"]):
            assert secret not in row.response and secret not in row.key_hash


def test_malformed_key_is_422(client):
    r = ask(client, {"Idempotency-Key": "x" * 300})
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_follow_up_retry_adds_one_query(app, client, member):
    from avycenna.encounters.models import EncounterQuery

    enc = ask(client, member["key"]).get_json()["encounter_id"]
    headers = {"Idempotency-Key": "fu-1", **member["key"]}
    url = f"/api/v1/encounters/{enc}/queries"
    assert client.post(url, json={"query": QUERY}, headers=headers).status_code == 201
    assert client.post(url, json={"query": QUERY}, headers=headers).status_code == 201
    assert db_read(app, lambda: EncounterQuery.select().count()) == 2
    r = client.post(url, json={"query": QUERY + "!"}, headers=headers)
    assert r.status_code == 422


def test_racing_retries_with_one_key_open_one_encounter(app):
    import threading

    from avycenna.encounters.models import Encounter

    barrier, codes = threading.Barrier(3), []

    def send():
        local = app.test_client()
        barrier.wait()
        codes.append(ask(local, {"Idempotency-Key": "race"}).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}, codes
    assert db_read(app, lambda: Encounter.select().count()) == 1


def test_rejected_queries_do_not_use_up_the_agent_budget(client):
    for _ in range(6):
        assert client.post("/api/v1/agent/query", json={"query": "too short"}).status_code == 422
    assert all(ask(client).status_code == 200 for _ in range(5))
    assert ask(client).status_code == 429
