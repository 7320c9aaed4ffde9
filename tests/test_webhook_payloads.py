"""Events name, they never describe: every event type the code can emit (read from its registry,
`avycenna.webhooks.events.EVENTS`, not from a list kept here) is raised with fixtures full of
distinctive text, and none of that text appears anywhere in what a receiver gets."""
import json

import pytest

from avycenna.db import database
from avycenna.webhooks import delivery, events
from tests.agent_helpers import CONSENT, QUERY, subscribe
from tests.factories import audit_events

HOOKS = "/api/v1/webhook-endpoints"

# Text a person or a device wrote, or that says who someone is: none of it may leave in an event.
MEMBER_NAME = "Zelinda Quarrington"
MEMBER_EMAIL = "zelinda.quarrington@example.test"
CLINICIAN_NAME = "Thaddeus Brightwater"
CLINICIAN_EMAIL = "t.brightwater@example.test"
PATIENT_NAME = "Ophelia Wintergreen"
BIRTH_DATE = "1983-07-19"
DOCUMENT = "X9981234"
SOURCE = "Ophelia Wintergreen's iPhone"
SECOND_SOURCE = "Zelinda's Apple Watch"
QUESTION_TEXT = "Any fainting spells near the Marmalade bridge?"
ANSWER_TEXT = "Hydrate and rest; the Quixotic protocol applies."
CLOSING_TEXT = "Vasovagal episode, Peregrine follow-up."
GRANT_MESSAGE = "Cardiology follow-up for Ophelia, Lantern Clinic"
DECLINED_MESSAGE = "Second opinion from the Sapphire practice"
HOOK_DESCRIPTION = "Quarrington family automations"
QUERY_TEXT = QUERY.replace("cough", "cough near the Marmalade bridge")

FIXTURE_TEXT = [MEMBER_NAME, MEMBER_EMAIL, CLINICIAN_NAME, CLINICIAN_EMAIL, PATIENT_NAME, BIRTH_DATE, DOCUMENT,
                SOURCE, SECOND_SOURCE, QUESTION_TEXT, ANSWER_TEXT, CLOSING_TEXT, GRANT_MESSAGE, DECLINED_MESSAGE,
                HOOK_DESCRIPTION, QUERY_TEXT[:40], "Marmalade", "Quixotic", "Peregrine", "Lantern", "Sapphire",
                "Wintergreen", "Quarrington", "Brightwater", "iPhone", "Apple Watch", "Ophelia", "Zelinda"]


def send_due(app):
    with app.app_context(), database.obj.connection_context():
        for delivery_id in delivery.due():
            delivery.deliver(delivery_id)


def ok(response, *statuses):
    assert response.status_code in (statuses or (200,)), response.get_json()
    return response.get_json()


def raise_every_event(app, client, people, hooks):
    """A day of the clinic that raises each kind of event at least once."""
    member, doc, admin = people["member"], people["clinician"], people["admin"]
    for name, headers in (("member", member), ("clinician", doc)):
        hooks[name] = ok(client.post(HOOKS, json={"url": hooks["url"] + name, "description": HOOK_DESCRIPTION},
                                     headers=headers), 201)
    subscribe(client, member, admin)
    pid = ok(client.post("/api/v1/patients", json={"name": PATIENT_NAME, "date_of_birth": BIRTH_DATE,
                                                   "relationship": "self"}, headers=member), 201)["id"]
    ok(client.post(f"/api/v1/patients/{pid}/consent", json=CONSENT, headers=member))
    ok(client.post(f"/api/v1/patients/{pid}/id-verification",
                   json={"document_type": "passport", "document_number": DOCUMENT}, headers=member), 201)
    ok(client.post(f"/api/v1/patients/{pid}/id-verification/approve", json={}, headers=admin))
    eid = ok(client.post("/api/v1/agent/query", json={"query": QUERY_TEXT, "patient_id": pid},
                         headers=people["member_key"]), 200, 201)["encounter_id"]  # encounter.submitted
    ok(client.post(f"/api/v1/encounters/{eid}/take", headers=doc))
    ok(client.post(f"/api/v1/encounters/{eid}/messages", json={"body": QUESTION_TEXT, "asks_agent": True},
                   headers=doc), 201)  # encounter.message_created
    ok(client.post(f"/api/v1/encounters/{eid}/answer", json={"body": ANSWER_TEXT}, headers=doc))
    ok(client.post(f"/api/v1/encounters/{eid}/close", json={"summary": CLOSING_TEXT}, headers=doc))
    grant = ok(client.post("/api/v1/grants", json={"email": MEMBER_EMAIL, "scopes": ["wearables", "profile"],
                                                   "message": GRANT_MESSAGE}, headers=doc), 201)
    ok(client.post(f"/api/v1/grants/{grant['id']}/accept", json={"patient_id": pid}, headers=member))
    declined = ok(client.post("/api/v1/grants", json={"email": MEMBER_EMAIL, "scopes": ["wearables"],
                                                      "message": DECLINED_MESSAGE}, headers=doc), 201)
    ok(client.post(f"/api/v1/grants/{declined['id']}/decline", headers=member))
    for source in (SOURCE, SECOND_SOURCE):
        ok(client.post(f"/api/v1/patients/{pid}/wearables", headers=member, json={"source": source, "samples": [
            {"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 72, "unit": "count/min"},
            {"type": "steps", "start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:10:00Z", "value": 840,
             "unit": "count"}]}))
    ok(client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=doc))
    ok(client.post(f"{HOOKS}/{hooks['member']['id']}/test", headers=member), 202)
    return pid


@pytest.fixture
def people(make_user, token_for, key_for):
    member = make_user(email=MEMBER_EMAIL, name=MEMBER_NAME)
    clinician = make_user(role="clinician", email=CLINICIAN_EMAIL, name=CLINICIAN_NAME)
    admin = make_user(role="admin")
    return {"member": token_for(member), "member_key": key_for(member), "clinician": token_for(clinician),
            "admin": token_for(admin)}


def test_no_event_carries_text_a_person_or_device_wrote(app, client, people, receiver):
    hooks = {"url": receiver.url("/")}
    raise_every_event(app, client, people, hooks)
    send_due(app)
    delivered = [(path, headers, body) for path, headers, body in receiver.requests]
    types = {json.loads(body)["type"] for _, _, body in delivered}
    every_type = set(events.EVENTS) | {events.TEST_EVENT}
    missing = every_type - types
    assert not missing, f"raise {sorted(missing)} in raise_every_event(): every event type is scanned"
    for path, headers, body in delivered:
        sent = body + json.dumps(headers)
        for text in FIXTURE_TEXT:
            assert text.lower() not in sent.lower(), (json.loads(body)["type"], text)
        assert_only_names(json.loads(body)["data"])


def assert_only_names(data):
    """Every value is an id, a type or status word, a count, a flag or a time: no prose."""
    for key, value in data.items():
        if isinstance(value, dict):
            assert_only_names(value)
        elif isinstance(value, list):
            assert all(isinstance(v, str) and v.replace("_", "").isalnum() for v in value), (key, value)
        elif isinstance(value, str):
            assert " " not in value and len(value) <= 40, (key, value)
        else:
            assert value is None or isinstance(value, (bool, int, float)), (key, value)


def test_a_source_id_names_the_device_for_whoever_may_read_the_patient(app, client, people, receiver,
                                                                       make_user, token_for):
    hooks = {"url": receiver.url("/")}
    pid = raise_every_event(app, client, people, hooks)
    send_due(app)
    ingested = [json.loads(body)["data"] for path, _, body in receiver.requests
                if path == "/member" and json.loads(body)["type"] == "wearables.ingested"]
    assert len(ingested) == 2 and all(d["source_id"].startswith("wsrc_") for d in ingested)
    first, second = (d["source_id"] for d in ingested)
    assert first != second and "source" not in ingested[0]

    url = f"/api/v1/patients/{pid}/wearables/sources/{first}"
    named = ok(client.get(url, headers=people["member"]))
    assert named["id"] == first and named["source"] == SOURCE and named["first_seen_at"].endswith("Z")
    assert ok(client.get(f"/api/v1/patients/{pid}/wearables/sources/{second}",
                         headers=people["member"]))["source"] == SECOND_SOURCE
    listed = ok(client.get(f"/api/v1/patients/{pid}/wearables/sources", headers=people["member"]))["data"]
    assert {e["source"]: e["id"] for e in listed} == {SOURCE: first, SECOND_SOURCE: second}

    # The clinician's grant was revoked: the name is refused like the rest of the patient's data.
    assert client.get(url, headers=people["clinician"]).status_code == 404
    stranger = token_for(make_user(role="clinician"))
    assert client.get(url, headers=stranger).status_code == 404
    assert client.get(f"/api/v1/patients/{pid}/wearables/sources/wsrc_nope", headers=people["member"]).status_code == 404
    other_pid = ok(client.post("/api/v1/patients", json={"name": "Someone Else", "date_of_birth": "1990-01-01",
                                                         "relationship": "child"}, headers=people["member"]), 201)["id"]
    assert client.get(f"/api/v1/patients/{other_pid}/wearables/sources/{first}",
                      headers=people["member"]).status_code == 404
    reads = audit_events(app, action="wearables.source.read")
    assert [(str(e.patient_id), e.target_id) for e in reads] == [(pid, first), (pid, second)]


def test_a_clinician_with_a_wearables_grant_reads_the_name_audited_under_the_grant(app, client, people):
    member, doc = people["member"], people["clinician"]
    pid = ok(client.post("/api/v1/patients", json={"name": PATIENT_NAME, "date_of_birth": BIRTH_DATE,
                                                   "relationship": "self"}, headers=member), 201)["id"]
    ok(client.post(f"/api/v1/patients/{pid}/wearables", headers=member, json={"source": SOURCE, "samples": [
        {"type": "heart_rate", "start": "2026-11-20T08:00:00Z", "value": 72, "unit": "count/min"}]}))
    [entry] = ok(client.get(f"/api/v1/patients/{pid}/wearables/sources", headers=member))["data"]
    grant = ok(client.post("/api/v1/grants", json={"email": MEMBER_EMAIL, "scopes": ["wearables"]},
                           headers=doc), 201)
    ok(client.post(f"/api/v1/grants/{grant['id']}/accept", json={"patient_id": pid}, headers=member))
    url = f"/api/v1/patients/{pid}/wearables/sources/{entry['id']}"
    assert ok(client.get(url, headers=doc))["source"] == SOURCE
    [read] = audit_events(app, action="wearables.source.read")
    assert json.loads(read.details)["grant_id"] == grant["id"] and str(read.patient_id) == pid
    ok(client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=member))
    assert client.get(url, headers=doc).status_code == 404
