"""Races: competing requests fired together at a live server, on SQLite and on PostgreSQL.

Each test sets a row up, lets several threads release their requests at one barrier
against the app served over HTTP (a thread per request), and checks that what the responses said is what
the database holds afterwards: a 200 revoke means revoked, one "mark paid" wins, a code
sees at most 5 wrong tries. SQLite passes by its single writer; PostgreSQL runs the
requests at once, so there it is the conditional updates and row locks that pass.
"""
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from avycenna.db import database
from tests.agent_helpers import QUERY, ready_patient, subscribe
from tests.factories import audit_events, make_patient

RUNS = 6  # races per test: enough to lose one on PostgreSQL without the fixes, cheap on 2 cores


@pytest.fixture
def app_config(app_config):
    """No rate limit gets in the way of many requests from one address."""
    plenty = "100000/minute"
    app_config.update(RATELIMIT_ANONYMOUS=plenty, RATELIMIT_JWT=plenty, RATELIMIT_API_KEY=plenty,
                      RATELIMIT_AUTH=plenty, RATELIMIT_WEB=plenty, RATELIMIT_OTP_EMAIL=plenty,
                      RATELIMIT_OTP_IP=plenty, AGENT_QUERY_RATE_LIMIT=plenty)
    return app_config


class Server:
    """The app served on a free loopback port, one thread per request, so every racer runs at once."""

    def __init__(self, app):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args):
                pass  # no access log per racing request

        self.httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def server(app):
    live = Server(app)
    live.thread.start()
    yield live
    live.httpd.shutdown()
    live.httpd.server_close()
    live.thread.join(10)


@pytest.fixture
def people(make_user, key_for):
    admin, clinician = make_user("admin"), make_user("clinician")
    return {"admin": key_for(admin), "admin2": key_for(admin), "clinician": clinician,
            "dr": key_for(clinician), "dr2": key_for(make_user("clinician"))}


def together(server, *calls):
    """Fire `(method, path, headers, json)` requests at one barrier; the responses in order."""
    barrier = threading.Barrier(len(calls))

    def fire(call):
        method, path, headers, body = call
        with requests.Session() as session:
            request = session.prepare_request(requests.Request(method, server.url + path, headers=headers,
                                                               json=body))
            barrier.wait()
            return session.send(request, timeout=30)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(fire, calls))


def post(path, headers, body=None):
    return ("POST", path, headers, body)


def codes(responses):
    return [r.status_code for r in responses]


def read(app, query):
    with app.app_context(), database.obj.connection_context():
        return query()


# Grants --------------------------------------------------------------------------------------

def ask(client, people, email):
    r = client.post("/api/v1/grants", headers=people["dr"], json={"email": email, "scopes": ["wearables"]})
    assert r.status_code == 201
    return r.get_json()["id"]


def test_accept_against_revoke_ends_as_the_responses_said(app, client, server, people, make_user, key_for):
    from avycenna.grants.models import Grant

    holder = make_user("member")
    alex, patient = key_for(holder), make_patient(app, holder)
    for _ in range(RUNS):
        grant_id = ask(client, people, holder.email)
        accepted, revoked = together(server, post(f"/api/v1/grants/{grant_id}/accept", alex,
                                                  {"patient_id": str(patient.id)}),
                                     post(f"/api/v1/grants/{grant_id}/revoke", alex))
        assert revoked.status_code == 200  # pending and active can both be revoked
        assert accepted.status_code in (200, 409)
        assert read(app, lambda: Grant.get_by_id(grant_id).status) == "revoked"
        wearables = client.get(f"/api/v1/patients/{patient.id}/wearables?type=heart_rate", headers=people["dr"])
        assert wearables.status_code == 404


def test_two_accepts_of_one_grant_one_wins(app, client, server, people, make_user, key_for):
    from avycenna.grants.models import Grant

    holder = make_user("member")
    alex = key_for(holder)
    first, second = make_patient(app, holder), make_patient(app, holder, name="Kid", relationship="child")
    for _ in range(RUNS):
        grant_id = ask(client, people, holder.email)
        responses = together(server, *(post(f"/api/v1/grants/{grant_id}/accept", alex, {"patient_id": str(p.id)})
                                       for p in (first, second)))
        assert sorted(codes(responses)) == [200, 409]
        winner = next(r for r in responses if r.status_code == 200).json()
        assert read(app, lambda: str(Grant.get_by_id(grant_id).patient_id)) == winner["patient"]["id"]
        assert [e.action for e in audit_events(app, target_id=grant_id)] == ["grant.request", "grant.accept"]


def test_accept_against_decline_one_wins(app, client, server, people, make_user, key_for):
    from avycenna.grants.models import Grant

    holder = make_user("member")
    alex, patient = key_for(holder), make_patient(app, holder)
    for _ in range(RUNS):
        grant_id = ask(client, people, holder.email)
        accepted, declined = together(server, post(f"/api/v1/grants/{grant_id}/accept", alex,
                                                   {"patient_id": str(patient.id)}),
                                      post(f"/api/v1/grants/{grant_id}/decline", alex))
        assert sorted([accepted.status_code, declined.status_code]) == [200, 409]
        expected = "active" if accepted.status_code == 200 else "declined"
        assert read(app, lambda: Grant.get_by_id(grant_id).status) == expected


# Billing -------------------------------------------------------------------------------------

def test_two_mark_paid_one_wins_and_the_period_starts_now(app, client, server, people, make_user, key_for):
    from avycenna.billing.models import Subscription
    from avycenna.billing.plans import add_interval
    from avycenna.clock import utcnow

    for _ in range(RUNS):
        member = key_for(make_user())
        invoice = client.post("/api/v1/subscription", json={"plan": "monthly"},
                              headers=member).get_json()["open_invoice"]["id"]
        responses = together(server, *(post(f"/api/v1/admin/invoices/{invoice}/mark-paid", people[who])
                                       for who in ("admin", "admin2")))
        assert sorted(codes(responses)) == [200, 409]
        sub = read(app, lambda: Subscription.get(Subscription.account == invoice_account(invoice)))
        assert sub.status == "active" and sub.current_period_start <= utcnow()
        assert sub.current_period_end == add_interval(sub.current_period_start, "month")
        assert client.get("/api/v1/subscription", headers=member).get_json()["encounters_used"] == 0


def invoice_account(invoice_id):
    from avycenna.billing.models import Invoice

    return Invoice.get_by_id(invoice_id).account_id


def test_subscribing_twice_at_once_makes_one_subscription(app, server, make_user, key_for):
    from avycenna.billing.models import Subscription

    for _ in range(RUNS):
        user = make_user()
        member = key_for(user)
        responses = together(server, *(post("/api/v1/subscription", member, {"plan": "monthly"}),) * 2)
        assert sorted(codes(responses)) == [201, 409]
        assert read(app, lambda: Subscription.select().where(Subscription.account == user.id).count()) == 1


def test_cancel_against_mark_paid_never_revives_a_cancelled_subscription(app, client, server, people,
                                                                          make_user, key_for):
    from avycenna.billing.models import Invoice, Subscription

    for _ in range(RUNS):
        member = key_for(make_user())
        sub = client.post("/api/v1/subscription", json={"plan": "monthly"}, headers=member).get_json()
        invoice = sub["open_invoice"]["id"]
        paid, cancelled = together(server, post(f"/api/v1/admin/invoices/{invoice}/mark-paid", people["admin"]),
                                   ("DELETE", "/api/v1/subscription", member, None))
        assert cancelled.status_code == 200 and paid.status_code in (200, 409)
        assert read(app, lambda: Subscription.get_by_id(sub["id"]).status) == "cancelled"
        expected = "paid" if paid.status_code == 200 else "void"
        assert read(app, lambda: Invoice.get_by_id(invoice).status) == expected


def test_the_allowance_holds_when_queries_arrive_together(app, client, server, people, make_user, key_for):
    user = make_user()
    member = key_for(user)
    subscribe(client, member, people["admin"])  # monthly: 3 encounters included
    pid = ready_patient(client, member, people["admin"])
    responses = together(server, *(post("/api/v1/agent/query", member, {"query": QUERY, "patient_id": pid}),) * 6)
    assert codes(responses) == [200] * 6
    reasons = sorted(r.json()["auto_submit"]["pending_reasons"] for r in responses)
    assert reasons == [[]] * 3 + [["rate_limit_reached"]] * 3
    assert client.get("/api/v1/subscription", headers=member).get_json()["encounters_used"] == 3


# Sign-in codes -------------------------------------------------------------------------------

def test_parallel_wrong_codes_burn_the_code_after_five(app, server):
    from avycenna.auth.models import OtpCode
    from avycenna.auth.otp import hash_code
    from avycenna.clock import utcnow

    for _ in range(RUNS):
        email = f"guess-{uuid.uuid4().hex[:8]}@example.test"
        with app.app_context(), database.obj.connection_context():
            now = utcnow()
            OtpCode.create(email=email, code_hash=hash_code(email, "123456"), created_at=now,
                           expires_at=now + timedelta(minutes=10))
        guesses = [post("/api/v1/auth/otp/verify", {}, {"email": email, "otp": f"{n:06d}"}) for n in range(8)]
        assert codes(together(server, *guesses)) == [401] * 8
        row = read(app, lambda: OtpCode.get(OtpCode.email == email))
        assert row.attempts == 5 and row.consumed_at is not None  # the 6th to 8th never tried it
        right = requests.post(server.url + "/api/v1/auth/otp/verify", json={"email": email, "otp": "123456"})
        assert right.status_code == 401


# Patients and ID verification ----------------------------------------------------------------

def pending_verification(client, headers):
    pid = ready_patient(client, headers, None, relationship="child", verify=False)
    r = client.post(f"/api/v1/patients/{pid}/id-verification",
                    json={"document_type": "passport", "document_number": "P1234567"}, headers=headers)
    assert r.status_code == 201
    return pid


def test_approve_against_reject_one_wins(app, client, server, people, make_user, key_for):
    from avycenna.patients.models import IdVerification, Patient

    member = key_for(make_user())
    for _ in range(RUNS):
        pid = pending_verification(client, member)
        approve, reject = together(server, *(post(f"/api/v1/patients/{pid}/id-verification/{d}", people["admin"], {})
                                             for d in ("approve", "reject")))
        assert sorted([approve.status_code, reject.status_code]) == [200, 409]
        expected = "verified" if approve.status_code == 200 else "rejected"
        assert read(app, lambda: Patient.get_by_id(pid).id_verification_status) == expected
        assert read(app, lambda: [v.status for v in IdVerification.select().where(
            IdVerification.patient == pid)]) == [expected]


def test_a_patient_edit_never_undoes_an_approval_or_an_archive(app, client, server, people, make_user, key_for):
    from avycenna.patients.models import Patient

    member = key_for(make_user())
    for run in range(RUNS):
        pid = pending_verification(client, member)
        edit, approve = together(server, ("PATCH", f"/api/v1/patients/{pid}", member, {"name": f"Renamed {run}"}),
                                 post(f"/api/v1/patients/{pid}/id-verification/approve", people["admin"], {}))
        assert edit.status_code == approve.status_code == 200
        patient = read(app, lambda: Patient.get_by_id(pid))
        assert patient.id_verification_status == "verified" and patient.name == f"Renamed {run}"
        edit, archive = together(server, ("PATCH", f"/api/v1/patients/{pid}", member, {"name": "Late"}),
                                 ("DELETE", f"/api/v1/patients/{pid}", member, None))
        assert archive.status_code == 204 and edit.status_code in (200, 409)
        patient = read(app, lambda: Patient.get_by_id(pid))
        assert patient.archived_at is not None
        assert patient.name == ("Late" if edit.status_code == 200 else f"Renamed {run}")


# Accounts ------------------------------------------------------------------------------------

def test_a_profile_edit_never_reenables_a_disabled_account(app, server, people, make_user, key_for, token_for):
    from avycenna.auth.models import User

    for run in range(RUNS):
        user = make_user()
        edit, disable = together(server, ("PATCH", "/api/v1/auth/me", token_for(user), {"name": f"New {run}"}),
                                 ("PATCH", f"/api/v1/admin/users/{user.id}", people["admin"], {"is_active": False}))
        assert disable.status_code == 200 and edit.status_code in (200, 401)
        stored = read(app, lambda: User.get_by_id(user.id))
        assert stored.is_active is False and stored.disabled_at is not None
        assert stored.name == (f"New {run}" if edit.status_code == 200 else "Test Person")


# Encounters ----------------------------------------------------------------------------------

def submitted_encounter(app, account):
    from avycenna.clock import utcnow
    from avycenna.encounters.models import Encounter

    with app.app_context(), database.obj.connection_context():
        now = utcnow()
        return Encounter.create(account=account, session_token_hash=uuid.uuid4().hex,
                                encounter_token_hash=uuid.uuid4().hex, token_expires_at=now + timedelta(days=3),
                                status="submitted", submitted_at=now).id


def test_two_clinicians_take_one_encounter_one_wins(app, server, people, make_user):
    from avycenna.encounters.models import Encounter

    account = make_user()
    for _ in range(RUNS):
        encounter_id = submitted_encounter(app, account.id)
        responses = together(server, *(post(f"/api/v1/encounters/{encounter_id}/take", people[who])
                                       for who in ("dr", "dr2")))
        assert sorted(codes(responses)) in ([200, 404], [200, 409])  # the loser may no longer see it
        winner = next(r for r in responses if r.status_code == 200).json()
        assert read(app, lambda: Encounter.get_by_id(encounter_id).clinician_id) == winner["clinician_id"]


def test_answer_against_close_ends_as_the_responses_said(app, server, people, make_user):
    from avycenna.encounters.models import Encounter, Message

    account = make_user()
    for _ in range(RUNS):
        encounter_id = submitted_encounter(app, account.id)
        base = f"/api/v1/encounters/{encounter_id}"
        assert requests.post(server.url + base + "/take", headers=people["dr"]).status_code == 200
        answer, close = together(server, post(base + "/answer", people["dr"], {"body": "Rest and fluids."}),
                                 post(base + "/close", people["dr"], {"summary": "Done."}))
        assert answer.status_code in (200, 409) and close.status_code in (200, 409)
        assert 200 in (answer.status_code, close.status_code)
        status = read(app, lambda: Encounter.get_by_id(encounter_id).status)
        assert status == ("closed" if close.status_code == 200 else "answered")
        answers = read(app, lambda: Message.select().where((Message.encounter == encounter_id)
                                                           & Message.is_answer).count())
        assert answers == (1 if answer.status_code == 200 else 0)


def test_two_accounts_checking_out_one_link_one_gets_it(app, client, server, make_user, key_for):
    from avycenna.encounters.models import Encounter

    users = [make_user(), make_user()]
    headers = [key_for(user) for user in users]
    patients = [str(make_patient(app, user).id) for user in users]
    for _ in range(RUNS):
        body = client.post("/api/v1/agent/query", json={"query": QUERY}).get_json()
        token = body["encounter_token"]
        responses = together(server, *(post("/api/v1/checkout", h, {"encounter_token": token, "patient_id": p})
                                       for h, p in zip(headers, patients)))
        assert sorted(codes(responses)) in ([200, 404], [200, 409])
        winner = codes(responses).index(200)
        stored = read(app, lambda: Encounter.get_by_id(body["encounter_id"]))
        assert (stored.account_id, str(stored.patient_id)) == (users[winner].id, patients[winner])


def test_one_refresh_token_used_twice_at_once_is_a_reuse(app, server, make_user):
    """As one after the other: the second use of a used token revokes its family."""
    from avycenna.auth.models import RefreshToken
    from avycenna.auth.refresh import issue_refresh_token

    user = make_user()
    for _ in range(RUNS):
        with app.app_context(), database.obj.connection_context():
            token = issue_refresh_token(user)
        responses = together(server, *(post("/api/v1/auth/refresh", {}, {"refresh_token": token}),) * 2)
        assert sorted(codes(responses)) == [200, 401]
        successor = next(r for r in responses if r.status_code == 200).json()["refresh_token"]
        family = read(app, lambda: RefreshToken.select().where(RefreshToken.user == user.id)
                      .order_by(RefreshToken.created_at.desc()).first().family)
        assert read(app, lambda: RefreshToken.select().where(RefreshToken.family == family).count()) == 2
        assert requests.post(server.url + "/api/v1/auth/refresh",
                             json={"refresh_token": successor}).status_code == 401


def test_two_self_patients_at_once_make_one(app, server, make_user, key_for):
    from avycenna.patients.models import Patient

    for _ in range(RUNS):
        user = make_user()
        body = {"name": "Me", "date_of_birth": "1980-01-02", "relationship": "self"}
        responses = together(server, *(post("/api/v1/patients", key_for(user), body),) * 2)
        assert sorted(codes(responses)) == [201, 409]
        assert read(app, lambda: Patient.select().where(Patient.account == user.id).count()) == 1


def test_one_idempotency_key_sent_twice_at_once_does_the_work_once(app, server, make_user, key_for):
    from avycenna.encounters.models import Encounter

    user = make_user()
    for run in range(RUNS):
        headers = {**key_for(user), "Idempotency-Key": f"retry-{run}"}
        responses = together(server, *(post("/api/v1/agent/query", headers, {"query": QUERY}),) * 2)
        assert codes(responses) == [200, 200]
        assert responses[0].json()["encounter_id"] == responses[1].json()["encounter_id"]
    assert read(app, lambda: Encounter.select().where(Encounter.account == user.id).count()) == RUNS


# Wearables -----------------------------------------------------------------------------------

def test_overlapping_ingest_batches_in_any_order_never_deadlock(app, server, make_user, token_for, caplog):
    from avycenna.wearables.models import WearableHourly, WearableSample

    owner = make_user()
    headers, patient = token_for(owner), make_patient(app, owner)
    path = f"/api/v1/patients/{patient.id}/wearables"
    caplog.set_level(logging.INFO, logger="avycenna")
    for run in range(RUNS):
        day = f"2026-11-{run + 1:02d}"
        samples = [{"type": "heart_rate", "start": f"{day}T{hour:02d}:{minute:02d}:00Z", "value": 60 + minute,
                    "unit": "count/min"} for hour in range(6) for minute in range(0, 60, 2)]
        batches = [samples, samples[::-1], samples[::2] + samples[1::2], samples[1::2][::-1] + samples[::2]]
        responses = together(server, *(post(path, headers, {"source": "watch", "samples": b}) for b in batches))
        assert codes(responses) == [200] * len(batches)
        assert sum(r.json()["inserted"] for r in responses) == len(samples)

    def stored():
        return (WearableSample.select().where(WearableSample.patient == patient.id).count(),
                sum(h.count for h in WearableHourly.select().where(WearableHourly.patient == patient.id)))
    assert read(app, stored) == (RUNS * 180, RUNS * 180)
    assert not [r for r in caplog.records if "lost a race" in r.getMessage()]  # not even a retried deadlock


# The retry itself (PostgreSQL) ---------------------------------------------------------------

def raise_sqlstate(code):
    """A real error with this SQLSTATE, raised by PostgreSQL and passed up by the driver."""
    database.execute_sql(f"DO $$ BEGIN RAISE EXCEPTION 'race lost' USING ERRCODE = '{code}'; END $$")


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_a_lost_race_reruns_the_whole_unit_of_work(app, code, caplog):
    from avycenna.audit.models import AuditEvent
    from avycenna.audit.service import record
    from avycenna.db import is_sqlite, transaction

    caplog.set_level(logging.INFO, logger="avycenna")
    runs = []

    @transaction
    def unit():
        runs.append(1)
        record("race.test")  # written by every run; only the last run's survives
        if len(runs) < 3:
            raise_sqlstate(code)
        return len(runs)

    with app.app_context(), database.obj.connection_context():
        if is_sqlite():
            pytest.skip("SQLite serializes writers; there is no lost race to re-run")
        assert unit() == 3
        assert AuditEvent.select().where(AuditEvent.action == "race.test").count() == 1
    assert len([r for r in caplog.records if "lost a race" in r.getMessage()]) == 2


def test_a_race_lost_every_time_gives_up_after_a_few_runs(app):
    """The error then reaches errors.py, which answers 503 with Retry-After."""
    from peewee import OperationalError

    from avycenna.db import RETRIES, is_sqlite, transaction

    runs = []

    @transaction
    def always_loses():
        runs.append(1)
        raise_sqlstate("40P01")

    with app.app_context(), database.obj.connection_context():
        if is_sqlite():
            pytest.skip("SQLite serializes writers; there is no lost race to re-run")
        with pytest.raises(OperationalError):
            always_loses()
    assert len(runs) == RETRIES


def test_other_database_errors_are_not_retried(app):
    from peewee import IntegrityError

    from avycenna.db import is_sqlite, transaction

    runs = []

    @transaction
    def conflict():
        runs.append(1)
        if not is_sqlite():
            raise_sqlstate("23505")
        raise IntegrityError("unique")

    with app.app_context(), database.obj.connection_context():
        with pytest.raises(IntegrityError):
            conflict()
    assert len(runs) == 1
