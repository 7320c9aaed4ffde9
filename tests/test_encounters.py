"""Encounters: lifecycle, expiry, account lists, clinician queue and take (racing threads),
messages, agent chat credentials, audit, and 404 for every caller who may not see one."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tests.agent_helpers import QUERY, ask, bearer, db_read, ready_patient, subscribe


@pytest.fixture
def people(make_user, token_for, key_for):
    member = make_user()
    return {"member_user": member, "member": token_for(member), "key": key_for(member),
            "clinician": token_for(make_user(role="clinician")),
            "other_clinician": token_for(make_user(role="clinician")),
            "admin": token_for(make_user(role="admin")), "stranger": token_for(make_user())}


@pytest.fixture
def submitted(client, people):
    """A submitted encounter of `member` (subscriber, ready patient)."""
    subscribe(client, people["member"], people["admin"], plan="yearly")
    pid = ready_patient(client, people["member"], people["admin"])
    body = ask(client, people["key"], patient_id=pid).get_json()
    assert body["status"] == "submitted"
    return {**body, "patient_id": pid}


def take(client, people, encounter, who="clinician"):
    return client.post(f"/api/v1/encounters/{encounter['encounter_id']}/take", headers=people[who])


# Lifecycle -----------------------------------------------------------------------------------

def test_transition_table_is_the_only_way(app):
    from avycenna.encounters import lifecycle

    assert lifecycle.allowed("awaiting_checkout", "submitted")
    assert not lifecycle.allowed("awaiting_checkout", "in_review")
    assert not lifecycle.allowed("closed", "in_review")
    assert set(lifecycle.TRANSITIONS) == set(lifecycle.STATUSES)


def test_illegal_transitions_are_409_with_a_clear_message(client, people, submitted):
    url = f"/api/v1/encounters/{submitted['encounter_id']}"
    take(client, people, submitted)
    r = client.post(url + "/close", json={"summary": "done"}, headers=people["clinician"])
    assert r.status_code == 200
    r = client.post(url + "/answer", json={"body": "late"}, headers=people["clinician"])
    assert r.status_code == 409 and r.get_json() == {"detail": "Encounter is closed; it cannot become answered."}
    r = client.post(url + "/queries", json={"query": QUERY}, headers=people["member"])
    assert r.status_code == 409 and "closed" in r.get_json()["detail"]
    assert client.post(url + "/cancel", headers=people["member"]).status_code == 409


def test_follow_up_after_answer_reopens_review(client, people, submitted):
    url = f"/api/v1/encounters/{submitted['encounter_id']}"
    take(client, people, submitted)
    client.post(url + "/answer", json={"body": "Rest."}, headers=people["clinician"])
    r = client.post(url + "/queries", json={"query": "And if it gets worse? " * 30}, headers=people["member"])
    assert r.status_code == 201 and r.get_json()["status"] == "in_review"
    assert r.get_json()["latest_query"].startswith("And if it gets worse?")
    assert len(r.get_json()["queries"]) == 2


def test_owner_can_cancel_before_it_is_taken(client, people):
    enc = ask(client, people["key"]).get_json()
    r = client.post(f"/api/v1/encounters/{enc['encounter_id']}/cancel", headers=people["member"])
    assert r.get_json()["status"] == "cancelled"


def test_expires_lazily_after_72_hours(client, people):
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        enc = ask(client, people["key"]).get_json()
        clock.shift(timedelta(hours=71, minutes=59))
        agent = bearer(enc["encounter_token"])
        assert client.get(f"/api/v1/agent/encounters/{enc['encounter_id']}", headers=agent).get_json()[
            "status"] == "awaiting_checkout"
        clock.shift(timedelta(minutes=1))
        # Read with the owner's key (the token itself has expired now).
        r = client.get(f"/api/v1/encounters/{enc['encounter_id']}", headers=people["key"])
        assert r.get_json()["status"] == "expired"
        r = ask(client, people["key"], session_token=enc["session_token"])
        assert r.status_code == 409


def test_expire_encounters_cli(app, client, runner, people):
    from avycenna.encounters.models import Encounter

    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        enc = ask(client, people["key"]).get_json()
        clock.shift(timedelta(hours=73))
        result = runner.invoke(args=["expire-encounters"])
    assert "expired 1 encounter(s)" in result.output
    assert db_read(app, lambda: Encounter.get_by_id(enc["encounter_id"]).status) == "expired"


# Account ------------------------------------------------------------------------------------

def test_list_own_with_filters_and_cursor(client, people, submitted):
    others = [ask(client, people["key"]).get_json()["encounter_id"] for _ in range(2)]
    ask(client, people["stranger"])
    page = client.get("/api/v1/encounters?limit=2", headers=people["member"]).get_json()
    rest = client.get(f"/api/v1/encounters?limit=2&cursor={page['next_cursor']}", headers=people["member"]).get_json()
    ids = [e["id"] for e in page["data"] + rest["data"]]
    assert ids == list(reversed([submitted["encounter_id"]] + others)) and rest["next_cursor"] is None
    by_status = client.get("/api/v1/encounters?status=submitted", headers=people["member"]).get_json()["data"]
    assert [e["id"] for e in by_status] == [submitted["encounter_id"]]
    by_patient = client.get(f"/api/v1/encounters?patient_id={submitted['patient_id']}",
                            headers=people["member"]).get_json()["data"]
    assert [e["id"] for e in by_patient] == [submitted["encounter_id"]]
    assert client.get("/api/v1/encounters?status=bogus", headers=people["member"]).status_code == 422


# Clinicians ---------------------------------------------------------------------------------

def test_queue_is_oldest_first_and_staff_only(client, people):
    subscribe(client, people["member"], people["admin"], plan="yearly")
    pid = ready_patient(client, people["member"], people["admin"])
    with time_machine.travel(datetime.now(timezone.utc), tick=False) as clock:
        ids = []
        for _ in range(3):
            ids.append(ask(client, people["key"], patient_id=pid).get_json()["encounter_id"])
            clock.shift(timedelta(seconds=5))
    assert [e["id"] for e in client.get("/api/v1/encounters/queue", headers=people["clinician"]).get_json()[
        "data"]] == ids
    assert client.get("/api/v1/encounters/queue", headers=people["member"]).status_code == 403


def test_take_assigns_and_a_second_take_is_409(client, people, submitted):
    r = take(client, people, submitted)
    assert r.status_code == 200 and r.get_json()["status"] == "in_review" and r.get_json()["clinician_id"]
    r = take(client, people, submitted, "other_clinician")
    assert r.status_code == 404  # no longer in the queue and not theirs
    r = take(client, people, submitted)
    assert r.status_code == 409


def test_concurrent_takes_only_one_wins(app, client, people, submitted):
    barrier = threading.Barrier(4)
    results = []
    tokens = [people["clinician"], people["other_clinician"], people["admin"], people["clinician"]]

    def attempt(headers):
        local = app.test_client()
        barrier.wait()
        r = local.post(f"/api/v1/encounters/{submitted['encounter_id']}/take", headers=headers)
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(h,)) for h in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 1 and all(code in (404, 409) for code in results if code != 200), results


def test_clinician_reads_patient_only_of_encounters_they_took(client, people, submitted):
    url = f"/api/v1/encounters/{submitted['encounter_id']}/patient"
    assert client.get(url, headers=people["clinician"]).status_code == 404
    take(client, people, submitted)
    r = client.get(url, headers=people["clinician"])
    assert r.status_code == 200 and r.get_json()["id"] == submitted["patient_id"]
    assert client.get(url, headers=people["other_clinician"]).status_code == 404
    assert client.get(url, headers=people["member"]).status_code == 403


def test_only_the_clinician_can_ask_the_agent(client, people, submitted):
    take(client, people, submitted)
    r = client.post(f"/api/v1/encounters/{submitted['encounter_id']}/messages",
                    json={"body": "hi", "asks_agent": True}, headers=people["member"])
    assert r.status_code == 422
    r = client.post(f"/api/v1/encounters/{submitted['encounter_id']}/messages", json={"body": "Thanks"},
                    headers=people["member"])
    assert r.status_code == 201 and r.get_json()["author_role"] == "member"


# Agent chat credentials ---------------------------------------------------------------------

def test_agent_chat_with_token_key_and_the_wrong_ones(client, people, submitted):
    enc_id, token = submitted["encounter_id"], submitted["encounter_token"]
    other = ask(client).get_json()
    base = f"/api/v1/agent/encounters/{enc_id}"
    assert client.get(base, headers=bearer(token)).status_code == 200
    assert client.get(base, headers=people["key"]).status_code == 200  # the owner's key
    r = client.get(base, headers=bearer(other["encounter_token"]))  # another encounter's token
    assert r.status_code == 404 and r.get_json() == {"detail": "Encounter not found."}
    r = client.get(base, headers=bearer("f" * 64))
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid encounter token."}
    assert client.get(base).status_code == 401
    assert client.get(base, headers=people["stranger"]).status_code == 404
    for path in ("", "/messages"):
        assert client.get(f"/api/v1/agent/encounters/enc_missing{path}", headers=bearer(token)).status_code == 404
    r = client.post(base + "/messages", json={"body": "x"}, headers=bearer(other["encounter_token"]))
    assert r.status_code == 404
    # The encounter token opens nothing else.
    assert client.get(f"/api/v1/encounters/{enc_id}", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/patients", headers=bearer(token)).status_code == 401


def test_expired_encounter_token_is_401(client, people):
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 0), tick=False) as clock:
        enc = ask(client).get_json()
        clock.shift(timedelta(hours=72))
        r = client.get(f"/api/v1/agent/encounters/{enc['encounter_id']}", headers=bearer(enc["encounter_token"]))
    assert r.status_code == 401 and r.get_json() == {"detail": "Encounter token expired."}


def test_agent_reads_its_checkout_url_while_awaiting(client):
    enc = ask(client).get_json()
    r = client.get(f"/api/v1/agent/encounters/{enc['encounter_id']}", headers=bearer(enc["encounter_token"]))
    assert r.get_json()["checkout_url"] == enc["checkout_url"]


def test_agent_cannot_message_before_submission_and_reply_to_must_be_a_question(client, people, submitted):
    pending = ask(client).get_json()
    r = client.post(f"/api/v1/agent/encounters/{pending['encounter_id']}/messages", json={"body": "x"},
                    headers=bearer(pending["encounter_token"]))
    assert r.status_code == 409
    take(client, people, submitted)
    note = client.post(f"/api/v1/encounters/{submitted['encounter_id']}/messages", json={"body": "note"},
                       headers=people["clinician"]).get_json()
    r = client.post(f"/api/v1/agent/encounters/{submitted['encounter_id']}/messages",
                    json={"body": "x", "reply_to": note["id"]}, headers=bearer(submitted["encounter_token"]))
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "reply_to"]


def test_polling_after_and_cursor_pages(client, people, submitted):
    take(client, people, submitted)
    url = f"/api/v1/encounters/{submitted['encounter_id']}/messages"
    ids = [client.post(url, json={"body": f"m{i}"}, headers=people["clinician"]).get_json()["id"] for i in range(3)]
    agent = bearer(submitted["encounter_token"])
    agent_url = f"/api/v1/agent/encounters/{submitted['encounter_id']}/messages"
    page = client.get(agent_url + "?limit=2", headers=agent).get_json()
    rest = client.get(agent_url + f"?limit=2&cursor={page['next_cursor']}", headers=agent).get_json()
    assert [m["id"] for m in page["data"] + rest["data"]] == ids
    assert [m["id"] for m in client.get(agent_url + f"?after={ids[0]}", headers=agent).get_json()["data"]] == ids[1:]
    assert client.get(agent_url + f"?after={ids[2]}", headers=agent).get_json()["data"] == []
    assert client.get(agent_url + "?after=msg_unknown", headers=agent).status_code == 422


# Who may not see it: 404 on every endpoint ---------------------------------------------------

def test_every_endpoint_is_404_for_a_caller_who_may_not_see_it(client, people, submitted):
    enc = submitted["encounter_id"]
    take(client, people, submitted)
    calls = [
        ("get", f"/api/v1/encounters/{enc}", None),
        ("post", f"/api/v1/encounters/{enc}/queries", {"query": QUERY}),
        ("post", f"/api/v1/encounters/{enc}/cancel", None),
        ("get", f"/api/v1/encounters/{enc}/messages", None),
        ("post", f"/api/v1/encounters/{enc}/messages", {"body": "hi"}),
        ("get", f"/api/v1/agent/encounters/{enc}", None),
        ("get", f"/api/v1/agent/encounters/{enc}/messages", None),
        ("post", f"/api/v1/agent/encounters/{enc}/messages", {"body": "hi"}),
    ]
    for method, url, body in calls:
        r = getattr(client, method)(url, json=body, headers=people["stranger"])
        assert r.status_code == 404, (method, url, r.status_code)
    staff_calls = [
        ("get", f"/api/v1/encounters/{enc}", None),
        ("post", f"/api/v1/encounters/{enc}/take", None),
        ("get", f"/api/v1/encounters/{enc}/patient", None),
        ("get", f"/api/v1/encounters/{enc}/messages", None),
        ("post", f"/api/v1/encounters/{enc}/messages", {"body": "hi"}),
        ("post", f"/api/v1/encounters/{enc}/answer", {"body": "hi"}),
        ("post", f"/api/v1/encounters/{enc}/close", {"summary": "hi"}),
    ]
    for method, url, body in staff_calls:
        r = getattr(client, method)(url, json=body, headers=people["other_clinician"])
        assert r.status_code == 404, (method, url, r.status_code)
    assert client.get("/api/v1/encounters/enc_nope", headers=people["member"]).status_code == 404


def test_encounter_and_message_access_is_audited_with_the_actor(app, client, people, submitted):
    from avycenna.audit.models import AuditEvent

    enc = submitted["encounter_id"]
    take(client, people, submitted)
    client.get(f"/api/v1/agent/encounters/{enc}/messages", headers=bearer(submitted["encounter_token"]))
    client.get(f"/api/v1/encounters/{enc}", headers=people["key"])
    events = db_read(app, lambda: list(AuditEvent.select().where(AuditEvent.target_id == enc)
                                       .order_by(AuditEvent.at)))
    seen = [(e.action, e.actor_type, e.patient_id) for e in events]
    pid = submitted["patient_id"]
    assert ("encounter.query", "api_key", pid) in seen
    assert ("encounter.take", "user", pid) in seen
    assert ("message.list", "encounter", pid) in seen
    assert ("encounter.read", "api_key", pid) in seen
    token_event = next(e for e in events if e.actor_type == "encounter")
    assert token_event.actor_encounter_id == enc


def test_a_list_audits_every_encounter_it_shows_with_its_latest_query(app, client, people, submitted):
    """The page loads latest queries and writes its audit rows in one go each: still one
    `encounter.list` event per listed encounter, with the actor and the request id."""
    from avycenna.audit.models import AuditEvent

    url = f"/api/v1/encounters/{submitted['encounter_id']}"
    take(client, people, submitted)
    client.post(url + "/answer", json={"body": "Rest."}, headers=people["clinician"])
    r = client.post(url + "/queries", json={"query": "Newer words for it. " * 30}, headers=people["member"])
    assert r.status_code == 201
    other = ask(client, people["key"]).get_json()["encounter_id"]
    r = client.get("/api/v1/encounters?limit=2", headers={**people["key"], "X-Request-ID": "list-req-1"})
    listed = r.get_json()["data"]
    assert [e["id"] for e in listed] == [other, submitted["encounter_id"]]
    assert listed[0]["latest_query"].startswith(QUERY[:30])
    assert listed[1]["latest_query"].startswith("Newer words for it.")
    events = db_read(app, lambda: list(AuditEvent.select().where(AuditEvent.action == "encounter.list")))
    assert sorted(e.target_id for e in events) == sorted([other, submitted["encounter_id"]])
    assert len({e.id for e in events}) == 2
    assert all(e.actor_type == "api_key" and e.actor_user_id == people["member_user"].id
               and e.request_id == "list-req-1" and e.at is not None for e in events)
    assert {e.patient_id for e in events if e.target_id == submitted["encounter_id"]} == {submitted["patient_id"]}


def test_stale_read_cannot_win_a_transition(app, submitted, make_user):
    """The conditional UPDATE: two requests that both read `submitted` — only one may take it."""
    from avycenna.encounters import lifecycle
    from avycenna.encounters.models import Encounter
    from avycenna.errors import ApiError

    first_doc, second_doc = make_user(role="clinician"), make_user(role="clinician")

    def race():
        a = Encounter.get_by_id(submitted["encounter_id"])
        b = Encounter.get_by_id(submitted["encounter_id"])
        lifecycle.transition(a, "in_review", clinician=first_doc.id)
        with pytest.raises(ApiError) as err:
            lifecycle.transition(b, "in_review", clinician=second_doc.id)
        assert err.value.code == 409
        return Encounter.get_by_id(submitted["encounter_id"]).clinician_id

    assert db_read(app, race) == first_doc.id


def test_answer_mails_the_account_holder_a_link_without_the_clinical_text(client, people, submitted, mailbox):
    take(client, people, submitted)
    answer = "Likely viral; rest and fluids."
    r = client.post(f"/api/v1/encounters/{submitted['encounter_id']}/answer", json={"body": answer},
                    headers=people["clinician"])
    assert r.status_code == 200
    [mail] = mailbox.to(people["member_user"].email)
    text = mail.get_content()
    assert f"/account/encounters/{submitted['encounter_id']}" in text
    assert answer not in text and answer not in mail["Subject"]


def test_clinician_lists_the_encounters_they_took(client, people, submitted):
    url = "/api/v1/encounters/assigned"
    assert client.get(url, headers=people["clinician"]).get_json()["data"] == []
    take(client, people, submitted)
    client.post(f"/api/v1/encounters/{submitted['encounter_id']}/close", json={"summary": "ok"},
                headers=people["clinician"])
    mine = client.get(url, headers=people["clinician"]).get_json()
    assert [e["id"] for e in mine["data"]] == [submitted["encounter_id"]] and mine["data"][0]["status"] == "closed"
    assert client.get(url + "?status=in_review", headers=people["clinician"]).get_json()["data"] == []
    assert client.get(url, headers=people["other_clinician"]).get_json()["data"] == []
    assert client.get(url, headers=people["member"]).status_code == 403


def test_agent_sees_what_the_encounter_waits_on(client, people):
    from tests.agent_helpers import add_patient

    enc = ask(client).get_json()
    agent = bearer(enc["encounter_token"])
    seen = client.get(f"/api/v1/agent/encounters/{enc['encounter_id']}", headers=agent).get_json()
    assert seen["pending_reasons"] == ["patient_required", "subscription_required"] and seen["checked_out"] is False
    pid = add_patient(client, people["member"])
    client.post("/api/v1/checkout", json={"encounter_token": enc["encounter_token"], "patient_id": pid},
                headers=people["member"])
    seen = client.get(f"/api/v1/agent/encounters/{enc['encounter_id']}", headers=agent).get_json()
    assert seen["checked_out"] is True
    assert seen["pending_reasons"] == ["telehealth_consent_required", "patient_not_id_verified",
                                       "subscription_required"]
