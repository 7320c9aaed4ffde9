"""What every request goes through (avycenna/pipeline.py), kept as it was made faster:
the per-credential budget, the pages' own budget, request ids, and verified JWTs kept
no longer than they are valid for the app that issued them."""
import re
import time

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ANONYMOUS"] = "3/minute"
    app_config["RATELIMIT_WEB"] = "5/minute"
    return app_config


def test_budget_headers_agree_with_the_limit_storage(app, client, make_user, token_for):
    """The budget is spent and read in one step (one round trip on Redis); what the headers
    say must be what the `limits` library itself reads back from the storage."""
    from avycenna.ratelimit import limiter

    user = make_user()
    app.config["RATELIMIT_JWT"] = "7/minute"
    headers = token_for(user)
    for sent in range(1, 4):
        r = client.get("/api/v1/auth/me", headers=headers)
        assert r.headers["X-RateLimit-Limit"] == "7"
        assert r.headers["X-RateLimit-Remaining"] == str(7 - sent)
    reset, remaining = MovingWindowRateLimiter(limiter.storage).get_window_stats(
        parse("7/minute"), app.config["RATELIMIT_KEY_PREFIX"], "user:" + user.id, "global")
    assert remaining == 4 and int(r.headers["X-RateLimit-Reset"]) == int(reset + 1)


def test_pages_spend_the_page_budget_not_the_api_budget(client):
    pages = [client.get("/signin") for _ in range(6)]
    assert [p.status_code for p in pages[:5]] == [200] * 5
    assert pages[5].status_code == 429 and pages[5].mimetype == "text/html"
    assert pages[0].headers["X-RateLimit-Limit"] == "5"
    api = client.get("/api/v1/auth/me")  # the same address's API budget is untouched
    assert api.status_code == 401 and api.headers["X-RateLimit-Remaining"] == "2"


def test_made_request_ids_are_distinct(client):
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(200)}
    assert len(ids) == 200 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_a_verified_token_is_not_taken_by_an_app_with_another_secret(app, app_config, client, make_user, token_for):
    from avycenna import create_app

    headers = token_for(make_user())
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200  # verified, and kept
    other = create_app({**app_config, "SECRET_KEY": "another-secret"}).test_client()
    r = other.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid or expired token."}


def test_waitress_queue_warnings_are_held_to_one_a_period(caplog, monkeypatch):
    """waitress warns on every request that waits for a free thread; the server passes one
    a period and says how many it held back (under load a record and a write per request
    cost the server more than the warning is worth)."""
    import logging

    from waitress.task import ThreadedTaskDispatcher

    from avycenna import serve

    monkeypatch.setattr(serve, "QUEUE_WARNING_EVERY", 0.2)
    dispatcher = ThreadedTaskDispatcher()  # no threads: every task waits
    serve.spare_queue_warnings(dispatcher)
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(5):
            dispatcher.add_task(object())
        first = [r.getMessage() for r in caplog.records]
        time.sleep(0.25)
        dispatcher.add_task(object())
    assert first == ["Task queue depth is 1"]
    assert caplog.records[-1].getMessage() == "Task queue depth is 6 (4 more like it held back)"
    assert [r.name for r in caplog.records] == ["waitress.queue"] * 2
