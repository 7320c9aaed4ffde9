"""Races on the authorization server, fired together at a live threaded server (SQLite and
PostgreSQL): of racers exchanging one code, or refreshing one refresh token, exactly one wins —
and since a second use is reuse, the connection ends up revoked with every token it issued."""
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.oauth_helpers import REDIRECT, RESOURCE, authorize_path, connect, flask_consent, flask_sign_in, pkce, register
from tests.test_races import app_config, server  # noqa: F401 (fixtures)

RACERS = 4
RUNS = 3


def together(server, forms):  # noqa: F811
    barrier = threading.Barrier(len(forms))

    def fire(form):
        with requests.Session() as session:
            request = session.prepare_request(requests.Request("POST", server.url + "/oauth/token", data=form))
            barrier.wait()
            return session.send(request, timeout=30)

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(fire, forms))


def works(client, access_token):
    from tests.oauth_helpers import LIST_PATIENTS, STATELESS

    r = client.post("/mcp", json=LIST_PATIENTS, headers={**STATELESS, "Authorization": "Bearer " + access_token})
    return r.status_code == 200


def test_one_code_exchanged_at_once_issues_once_and_the_reuse_revokes_it(app, client, server, make_user):  # noqa: F811
    person = make_user("member", password="correct horse battery")
    client_id = register(client)["client_id"]
    web = app.test_client()
    flask_sign_in(web, person.email)
    for _ in range(RUNS):
        verifier, challenge = pkce()
        code = flask_consent(web, authorize_path(client_id, challenge))["code"]
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "redirect_uri": REDIRECT,
                "code_verifier": verifier, "resource": RESOURCE}
        answers = together(server, [form] * RACERS)
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1, [r.status_code for r in answers]
        assert all(r.json()["error"] == "invalid_grant" for r in answers if r.status_code != 200)
        assert not works(client, won[0].json()["access_token"])  # the reuse revoked what it issued


def test_one_refresh_token_used_at_once_rotates_once_and_revokes(app, client, server, make_user):  # noqa: F811
    person = make_user("member", password="correct horse battery")
    for _ in range(RUNS):
        client_id, tokens = connect(client, app.test_client(), person)
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id,
                "resource": RESOURCE}
        answers = together(server, [form] * RACERS)
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1, [r.status_code for r in answers]
        assert not works(client, won[0].json()["access_token"])
