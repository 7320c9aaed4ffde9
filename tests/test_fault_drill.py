"""The fault drill: several hosts, faults on purpose, under a bounded load of real API traffic.

`tests/drill_hosts.py` builds the hosts in network namespaces on this machine: nginx with the
operations page's block as the load balancer, two `python app.py` hosts, a `flask --app app
worker` host, and a PostgreSQL and a Redis of the drill's own (never the machine's). Three
clients send real traffic through nginx — wearable batches, agent queries with an
Idempotency-Key, grant requests, accepts and revokes, each of which queues webhooks to two
real receivers — and retry a 503 as its `Retry-After` asks (at most a second here, to keep
the drill short). Each test does one fault while that traffic runs:

- kill -9 one app host's server (and start it again, as a service manager would);
- stop Redis for 10 s;
- restart PostgreSQL;
- cut one app host off Redis for 10 s (the cable at the cache's end: packets vanish);
- kill the worker while it is sending a webhook (and start it again).

After each one: every request that got a 2xx is stored exactly once, and no batch is half
written; every webhook event is delivered (at least once, with the same `webhook-id`,
verified with the `standardwebhooks` library); while Redis was unreachable the rate limits
allowed no more than the budget times the number of app hosts, and they are shared again
after; clients saw a 503 with `Retry-After` where they saw an error (never a 500, never a
hang past the client's timeout); the admin status and `/metrics` show what happened.

Marked `drill`: `pytest -m drill` runs it alone, `-m "not drill"` leaves it out (CI runs it
once, in the SQLite pass: it brings its own PostgreSQL and Redis). It needs root, `ip
netns`, nginx, redis-server and PostgreSQL's initdb/pg_ctl, and skips saying which is missing.
The measured results are in docs/install-and-operations.md (what a practice sees).
"""
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

from tests.agent_helpers import QUERY
from tests.drill_hosts import APP_PORT, Lab, missing_tools

pytestmark = pytest.mark.drill

APPS = ("app1", "app2")
BUDGET = 20  # RATELIMIT_API_KEY in the drill: requests a minute per API key
CLIENT_TIMEOUT = 15  # seconds a client waits for an answer before it calls the request hung
BATCH = 20  # samples per wearable batch
PAUSE = 0.1  # seconds each client waits between two pieces of work (the load's bound)
OUTAGE = 10  # seconds Redis is away
RETRY_STORAGE_AFTER = 5  # avycenna.ratelimit: seconds a process counts in memory before asking Redis again
DB_UNAVAILABLE = "Database unavailable; try again shortly."
RESULTS = []  # one line per fault, printed at the end of the module (-s) for the docs' table


# Clients ---------------------------------------------------------------------------------

class Client:
    """One client's session through the load balancer, recording every answer it gets."""

    def __init__(self, drill, headers):
        self.drill = drill
        self.http = requests.Session()
        self.http.verify = drill.ca_file
        self.http.trust_env = False
        self.http.headers.update(headers)

    def send(self, method, path, log, **kwargs):
        """One request: (status, body, headers); status None when it failed without an answer."""
        started = time.monotonic()
        try:
            response = self.http.request(method, self.drill.base + path, timeout=CLIENT_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            log.append({"path": path, "status": None, "error": type(error).__name__,
                        "seconds": time.monotonic() - started})
            return None, None, {}
        try:
            body = response.json()
        except ValueError:
            body = None
        log.append({"path": path, "status": response.status_code, "seconds": time.monotonic() - started,
                    "retry_after": response.headers.get("Retry-After"),
                    "detail": body.get("detail") if isinstance(body, dict) else None,
                    "json": body is not None})
        return response.status_code, body, response.headers

    def call(self, method, path, log, attempts=5, **kwargs):
        """`send`, retried while the answer is a 503 (or none), waiting as Retry-After asks
        (capped at a second). Returns the last (status, body) and every status seen."""
        statuses = []
        for _ in range(attempts):
            status, body, headers = self.send(method, path, log, **kwargs)
            statuses.append(status)
            if status is not None and status != 503:
                return status, body, statuses
            time.sleep(min(float(headers.get("Retry-After") or 1), 1.0))
        return status, body, statuses


class Load:
    """Three clients in threads, each at most one request in flight: wearable batches, agent
    queries, and grant cycles (request, accept, revoke), until `stop()`."""

    def __init__(self, drill):
        self.drill = drill
        self.log = []  # every answer (or failure) any client got
        self.batches = []  # (first sample's epoch ms, final status, response body)
        self.queries = []  # (marker, final status, [encounter ids of the 2xx answers])
        self.grants = []  # dicts: marker, created (status), id, accepted, revoked
        self.running = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(work,), daemon=True)
                        for work in (self.ingest, self.ask, self.grant_cycle)]

    def __enter__(self):
        self.running.set()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.running.clear()
        for thread in self.threads:
            thread.join(timeout=4 * CLIENT_TIMEOUT)

    def _loop(self, work):
        while self.running.is_set():
            work()
            time.sleep(PAUSE)

    def ingest(self):
        drill = self.drill
        first = drill.next_sample_ms(BATCH)
        samples = [{"type": "heart_rate", "start": _iso(first + i * 1000), "value": 60 + i % 30,
                    "unit": "count/min"} for i in range(BATCH)]
        status, body, _ = drill.member.call("POST", f"/api/v1/patients/{drill.patient_id}/wearables", self.log,
                                            json={"source": "drill_watch", "samples": samples})
        self.batches.append((first, status, body))

    def ask(self):
        marker = "drill-" + uuid.uuid4().hex
        ids = []
        for _ in range(5):  # the same Idempotency-Key until an answer: the first one's encounter
            status, body, _ = self.drill.member.call(
                "POST", "/api/v1/agent/query", self.log, attempts=1,
                json={"query": QUERY + " " + marker}, headers={"Idempotency-Key": marker})
            if status is not None and 200 <= status < 300:
                ids.append(body["encounter_id"])
                break
            time.sleep(0.5)
        self.queries.append((marker, status, ids))

    def grant_cycle(self):
        drill = self.drill
        marker = "drill-" + uuid.uuid4().hex
        record = {"marker": marker}
        self.grants.append(record)
        # A new grant is not idempotent: sent once (an answer lost after the commit is a grant
        # the clinician sees in their list, not a second one).
        status, body, _ = drill.clinician.send("POST", "/api/v1/grants", self.log,
                                               json={"email": drill.member_email, "scopes": ["wearables"],
                                                     "message": marker})
        record["created"] = status
        if status != 201:
            return
        record["id"] = body["id"]
        status, _, statuses = drill.member.call("POST", f"/api/v1/grants/{body['id']}/accept", self.log,
                                                json={"patient_id": drill.patient_id})
        # 409 after a 503: the first attempt did accept (its answer was lost).
        record["accepted"] = status == 200 or (status == 409 and 503 in statuses[:-1])
        status, _, statuses = drill.clinician.call("POST", f"/api/v1/grants/{body['id']}/revoke", self.log)
        record["revoked"] = status == 200 or (status == 409 and 503 in statuses[:-1])


def _iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The drill's hosts and its people ---------------------------------------------------------

class Drill:
    def __init__(self, lab):
        self.lab = lab
        self.secret = uuid.uuid4().hex * 2
        self.member_email = f"member-{lab.id}@drill.test"
        self._sample_ms = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp() * 1000)
        self._sample_lock = threading.Lock()
        self.receiver = None

    @property
    def base(self):
        return f"https://{self.lab.ip('lb')}:{self.lab.lb_port}"

    def next_sample_ms(self, count):
        with self._sample_lock:
            first = self._sample_ms
            self._sample_ms += count * 1000
            return first

    def env(self, role):
        lab = self.lab
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AVYCENNA_", "PROMETHEUS_")) and k not in ("DATABASE_URL", "RATELIMIT_STORAGE_URI")}
        env.update(
            PYTHONUNBUFFERED="1",
            AVYCENNA_INSTANCE_PATH=os.path.join(lab.dir, f"{role}-instance"), AVYCENNA_SECRET_KEY=self.secret,
            DATABASE_URL=lab.database_url, RATELIMIT_STORAGE_URI=lab.redis_url(role),
            AVYCENNA_QUEUE_URL=lab.redis_url(role), AVYCENNA_QUEUE_NAME="drill",
            AVYCENNA_RATELIMIT_KEY_PREFIX="drill", AVYCENNA_TRUSTED_PROXIES="1", AVYCENNA_DRAIN_SECONDS="0",
            AVYCENNA_PUBLIC_BASE_URL=self.base, AVYCENNA_RATELIMIT_API_KEY=f"{BUDGET}/minute",
            AVYCENNA_RATELIMIT_JWT="100000/minute", AVYCENNA_AGENT_QUERY_RATE_LIMIT="100000/hour",
            AVYCENNA_WEBHOOK_ALLOWED_HOSTS=json.dumps([lab.ip("root")]), AVYCENNA_WEBHOOK_LEASE_SECONDS="5",
            AVYCENNA_WEBHOOK_RETRY_SCHEDULE="[1, 2, 5, 10, 30]")
        return env

    def start_app(self, role):
        self.lab.spawn(role, [sys.executable, "app.py", "--host", "0.0.0.0", "--port", str(APP_PORT),
                              "--threads", "6"], env=self.env(role))

    def start_worker(self):
        self.lab.spawn("worker", [sys.executable, "-m", "flask", "--app", "app", "worker"], env=self.env("worker"))
        self.lab.wait_for_log("worker", "Huey consumer started")

    def start(self, tmp_path):
        import psycopg2
        import trustme

        from tests.test_proxy import nginx_conf
        from tests.webhook_receiver import Receiver

        lab = self.lab
        lab.build()
        lab.start_postgres()
        admin = psycopg2.connect(lab.database_url.replace("/avycenna", "/postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE avycenna")
        admin.close()
        lab.start_redis()
        self.setup_people(tmp_path)
        self.receiver = Receiver(host=lab.ip("root")).start()
        for role in APPS:
            self.start_app(role)
        self.start_worker()
        for role in APPS:
            lab.wait_ready(role)

        ca = trustme.CA()
        cert = ca.issue_cert(lab.ip("lb"))
        nginx_dir = tmp_path / "nginx"
        nginx_dir.mkdir()
        cert_file, key_file = nginx_dir / "cert.pem", nginx_dir / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
        self.ca_file = str(nginx_dir / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(nginx_conf(nginx_dir, f"{lab.ip('lb')}:{lab.lb_port}",
                                   [f"{lab.ip(role)}:{APP_PORT}" for role in APPS], cert_file, key_file))
        lab.spawn("lb", [os.environ.get("AVYCENNA_TEST_NGINX", "/usr/sbin/nginx"), "-e", "stderr",
                         "-p", str(nginx_dir), "-c", str(conf)])
        lab.wait_for_tcp(lab.ip("lb"), lab.lb_port, "nginx")

        self.member = Client(self, {"Authorization": "Bearer " + self.tokens["member"]})
        self.clinician = Client(self, {"Authorization": "Bearer " + self.tokens["clinician"]})
        self.secrets = {}
        for who, client in (("member", self.member), ("clinician", self.clinician)):
            status, body, _ = client.send("POST", "/api/v1/webhook-endpoints", [],
                                          json={"url": self.receiver.url("/" + who)})
            assert status == 201, body
            self.secrets["/" + who] = body["secret"]

    def setup_people(self, tmp_path):
        """The accounts, a patient, tokens and the probes' API keys, written straight into the
        drill's database by the app's own functions (then the test's app is put back)."""
        from avycenna import create_app
        from avycenna.api_keys.service import create_key
        from avycenna.auth.tokens import issue_access_token
        from avycenna.auth.users import create_user
        from avycenna.db import database
        from avycenna.migrate import upgrade
        from tests.factories import make_patient

        previous = database.obj
        app = create_app({"TESTING": True, "SECRET_KEY": self.secret, "DATABASE_URL": self.lab.database_url,
                          "INSTANCE_PATH": str(tmp_path / "setup-instance"), "QUEUE_NAME": "drill-setup"})
        try:
            with app.app_context():
                upgrade()
                with database.obj.connection_context():
                    member = create_user(self.member_email, role="member", name="Drill Member")
                    clinician = create_user(f"clinician-{self.lab.id}@drill.test", role="clinician", name="Dr. Drill")
                    admin = create_user(f"admin-{self.lab.id}@drill.test", role="admin", name="Drill Admin")
                    self.tokens = {name: issue_access_token(user) for name, user in
                                   (("member", member), ("clinician", clinician), ("admin", admin))}
                    self.probe_keys = [create_key(member, f"probe {n}")[1] for n in range(8)]
            self.patient_id = str(make_patient(app, member, name="Drill Patient").id)
        finally:
            database.obj.close_all()
            if previous is not None:
                database.initialize(previous)

    # What the hosts say -----------------------------------------------------------------

    def admin_get(self, role, path):
        response = requests.get(self.lab.app_url(role) + path, timeout=CLIENT_TIMEOUT,
                                headers={"Authorization": "Bearer " + self.tokens["admin"]})
        assert response.status_code == 200, (role, path, response.status_code, response.text)
        return response

    def status(self, role):
        return self.admin_get(role, "/api/v1/admin/status").json()

    def metrics(self, role):
        """{(name, frozenset(labels)): value} of one host's scrape."""
        values = {}
        for family in text_string_to_metric_families(self.admin_get(role, "/metrics").text):
            for sample in family.samples:
                values[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return values

    def probe_budget(self, requests_count=3 * BUDGET):
        """A fresh API key's requests through the load balancer, one after another:
        (answers 200, answers 429); every 429 carries Retry-After."""
        key = self.probe_keys.pop()
        client = Client(self, {"X-API-Key": key})
        log = []
        for _ in range(requests_count):
            client.send("GET", "/api/v1/auth/me", log)
        codes = Counter(entry["status"] for entry in log)
        assert set(codes) <= {200, 429}, codes
        assert all(entry["retry_after"] for entry in log if entry["status"] == 429)
        return codes[200], codes[429]

    def database(self):
        import psycopg2

        return psycopg2.connect(self.lab.database_url)

    # After each fault -------------------------------------------------------------------

    def check(self, load, name):
        """The drill's promises about everything `load` did; returns what clients saw."""
        answers = Counter(entry["status"] for entry in load.log)
        assert answers, "the load sent nothing"
        hung = [e for e in load.log if e["status"] is None]
        assert not hung, f"requests got no answer (timeout {CLIENT_TIMEOUT} s, or refused): {hung[:5]}"
        errors = {s: n for s, n in answers.items() if s >= 500 and s != 503}
        assert not errors, f"{name}: server errors other than 503: {errors}"
        unavailable = [e for e in load.log if e["status"] == 503]
        assert all(e["retry_after"] and e["json"] for e in unavailable), unavailable[:5]
        assert all(e["seconds"] < CLIENT_TIMEOUT for e in load.log)

        with self.database() as conn, conn.cursor() as cur:
            for first, status, body in load.batches:
                cur.execute("SELECT count(*) FROM wearable_sample WHERE patient_id = %s AND start_ms >= %s "
                            "AND start_ms < %s", (self.patient_id, first, first + BATCH * 1000))
                stored = cur.fetchone()[0]
                if status is not None and 200 <= status < 300:
                    assert stored == BATCH, f"a stored batch has {stored} of {BATCH} samples"
                else:
                    assert stored in (0, BATCH), f"a half-written batch: {stored} of {BATCH} samples"
            for marker, status, ids in load.queries:
                cur.execute("SELECT DISTINCT encounter_id FROM encounter_query WHERE text LIKE %s", (f"%{marker}",))
                stored = [row[0] for row in cur.fetchall()]
                if ids:
                    assert stored == ids[:1] and len(set(ids)) == 1, (marker, stored, ids)
                else:
                    assert len(stored) <= 1, (marker, stored)
            for grant in load.grants:
                cur.execute('SELECT id, status, patient_id FROM access_grant WHERE message = %s', (grant["marker"],))
                rows = cur.fetchall()
                if grant.get("created") == 201:
                    assert [row[0] for row in rows] == [grant["id"]], (grant, rows)
                    status = rows[0][1]
                    if grant.get("revoked"):
                        assert status == "revoked", (grant, rows)
                    if grant.get("accepted"):
                        assert status in ("active", "revoked") and str(rows[0][2]) == self.patient_id, (grant, rows)
                else:
                    assert len(rows) <= 1, (grant, rows)
        self.check_webhooks(load)
        return answers

    def check_webhooks(self, load, seconds=90):
        """Every delivery the database holds is delivered, and the receivers got each event
        (the delivery's `webhook-id`), signed with their endpoint's secret."""
        started = time.monotonic()
        deadline = started + seconds
        while True:
            with self.database() as conn, conn.cursor() as cur:
                cur.execute("SELECT d.message_id, d.status, d.event_type, d.payload, e.url, d.attempts "
                            "FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id")
                rows = cur.fetchall()
            waiting = [row for row in rows if row[1] != "delivered"]
            if not waiting:
                break
            assert time.monotonic() < deadline, (f"{len(waiting)} webhook deliveries still not delivered "
                                                 f"after {seconds} s: {waiting[:3]}\n{self.lab.tail('worker')}")
            time.sleep(0.2)
        self.webhooks_waited = time.monotonic() - started
        received = defaultdict(list)  # (path, webhook-id) -> [payload]
        for path, secret in self.secrets.items():
            for headers, payload in self.receiver.verified(secret, path):
                received[(path, headers["webhook-id"])].append(payload)
        for message_id, _, event_type, payload, url, _ in rows:
            path = "/" + url.rsplit("/", 1)[1]
            copies = received.get((path, message_id))
            assert copies, f"{event_type} {message_id} is marked delivered but {path} never got it"
            assert all(copy == json.loads(payload) for copy in copies), "a redelivery changed the event"
        events = defaultdict(set)  # event type -> ids named in the payloads
        for _, _, event_type, payload, _, _ in rows:
            data = json.loads(payload)["data"]
            events[event_type].add(data.get("grant_id") or data.get("start"))
        for grant in load.grants:
            if grant.get("created") == 201:
                assert grant["id"] in events["grant.requested"], grant
            if grant.get("revoked"):
                assert grant["id"] in events["grant.revoked"], grant
        for first, status, body in load.batches:
            if status == 200 and body["inserted"]:
                assert any(_same_time(start, first) for start in events["wearables.ingested"]), first
        return rows


def _same_time(iso, ms):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) == datetime.fromtimestamp(ms / 1000, timezone.utc)


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    drill = Drill(lab)
    try:
        drill.start(tmp_path_factory.mktemp("drill"))
        yield drill
    except Exception:
        print(lab.tail())
        raise
    finally:
        if drill.receiver is not None:
            drill.receiver.stop()
        lab.close()
        if RESULTS:
            print("\nfault drill:\n" + "\n".join(RESULTS))


@pytest.fixture
def hosts(drill):
    """The drill, every host up and serving (after whatever the previous fault did)."""
    for role in APPS:
        drill.lab.wait_ready(role)
    yield drill
    if any(drill.lab.processes.get(role) is None for role in (*APPS, "worker", "cache")):
        pytest.fail("a fault left a host down:\n" + drill.lab.tail())


def metric(values, name, **labels):
    return values.get((name, frozenset(labels.items())), 0.0)


def total(values, name, **labels):
    """The sum of every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in values.items() if n == name and wanted <= ls)


def summary(name, answers, load, extra=""):
    errors = {s: n for s, n in answers.items() if s != 200 and s != 201}
    slowest = max(e["seconds"] for e in load.log)
    RESULTS.append(f"{name}: {sum(answers.values())} answers, non-2xx {dict(sorted(errors.items()))}, "
                   f"slowest {slowest:.2f} s, webhooks all delivered {load.drill.webhooks_waited:.1f} s after the "
                   f"load stopped{extra}")


# The faults --------------------------------------------------------------------------------

def test_kill_an_app_host(hosts):
    lab = hosts.lab
    before = hosts.metrics("app2")
    with Load(hosts) as load:
        time.sleep(2)
        lab.kill("app1")  # SIGKILL: no drain, requests in flight are cut
        time.sleep(4)
        hosts.start_app("app1")
        lab.wait_ready("app1")
        time.sleep(2)
    answers = hosts.check(load, "kill -9 app1")
    after = hosts.metrics("app2")
    # app2 answered the traffic meanwhile; app1 is back with fresh counters and answers too.
    assert total(after, "avycenna_http_requests_total") > total(before, "avycenna_http_requests_total")
    assert metric(hosts.metrics("app1"), "avycenna_ready", part="all") == 1
    assert hosts.status("app1")["rate_limits"]["counting"] == "shared"
    summary("kill -9 an app host", answers, load)


def test_stop_redis_for_ten_seconds(hosts):
    lab = hosts.lab
    before = {role: hosts.metrics(role) for role in APPS}
    with Load(hosts) as load:
        time.sleep(2)
        lab.kill("cache", sig=15)  # redis-server saves and stops
        stopped = time.monotonic()
        time.sleep(1)
        allowed_while_down, refused_while_down = hosts.probe_budget()
        during = {role: hosts.status(role) for role in APPS}
        ready_during = {role: hosts.metrics(role) for role in APPS}
        time.sleep(max(0, OUTAGE - (time.monotonic() - stopped)))
        lab.start_redis()
        time.sleep(RETRY_STORAGE_AFTER + 1)
        allowed_after, refused_after = hosts.probe_budget()
        time.sleep(1)
    answers = hosts.check(load, "stop Redis")
    after = {role: hosts.metrics(role) for role in APPS}

    assert allowed_while_down <= BUDGET * len(APPS), allowed_while_down
    assert allowed_after == BUDGET and refused_after == 2 * BUDGET, (allowed_after, refused_after)
    for role in APPS:
        assert during[role]["queue"]["pending_jobs"] is None  # the admin status: the queue is unreachable
        assert metric(ready_during[role], "avycenna_ready", part="rate_limits") == 0
        assert metric(ready_during[role], "avycenna_ready", part="queue") == 0
        assert metric(after[role], "avycenna_ready", part="all") == 1
        fallbacks = (metric(after[role], "avycenna_ratelimit_fallbacks_total")
                     - metric(before[role], "avycenna_ratelimit_fallbacks_total"))
        assert fallbacks >= 1, role
        status = hosts.status(role)
        assert status["rate_limits"]["counting"] == "shared" and status["rate_limits"]["last_fallback_at"]
        assert isinstance(status["queue"]["pending_jobs"], int)
    missed = sum(total(after[r], "avycenna_job_enqueue_failures_total")
                 - total(before[r], "avycenna_job_enqueue_failures_total") for r in APPS)
    summary("stop Redis 10 s", answers, load,
            f"; one key's budget {BUDGET}/min: {allowed_while_down} allowed while Redis was down, "
            f"{allowed_after} after; {int(missed)} jobs not queued, delivered by the sweep")


def test_restart_postgresql(hosts):
    lab = hosts.lab
    before = {role: hosts.metrics(role) for role in APPS}
    with Load(hosts) as load:
        time.sleep(2)
        lab.restart_postgres()
        time.sleep(4)
    answers = hosts.check(load, "restart PostgreSQL")
    after = {role: hosts.metrics(role) for role in APPS}
    answered_503 = sum(total(after[r], "avycenna_http_requests_total", status="503")
                       - total(before[r], "avycenna_http_requests_total", status="503") for r in APPS)
    seen = sum(1 for e in load.log if e["status"] == 503 and e["detail"] == DB_UNAVAILABLE)
    assert answered_503 == seen, (answered_503, seen)  # /metrics counts every 503 the clients saw
    for role in APPS:
        assert metric(after[role], "avycenna_ready", part="database") == 1
    summary("restart PostgreSQL", answers, load)


def test_cut_an_app_host_off_redis(hosts):
    lab = hosts.lab
    before = {role: hosts.metrics(role) for role in APPS}
    with Load(hosts) as load:
        time.sleep(2)
        lab.cut_redis("app2")
        cut = time.monotonic()
        time.sleep(1)
        allowed_while_cut, _ = hosts.probe_budget()
        during = {role: hosts.status(role) for role in APPS}
        time.sleep(max(0, OUTAGE - (time.monotonic() - cut)))
        lab.cut_redis("app2", cut=False)
        time.sleep(RETRY_STORAGE_AFTER + 1)
        allowed_after, refused_after = hosts.probe_budget()
        time.sleep(1)
    answers = hosts.check(load, "cut app2 off Redis")
    after = {role: hosts.metrics(role) for role in APPS}

    assert allowed_while_cut <= BUDGET * len(APPS), allowed_while_cut
    assert allowed_after == BUDGET and refused_after == 2 * BUDGET, (allowed_after, refused_after)
    assert during["app2"]["queue"]["pending_jobs"] is None
    assert isinstance(during["app1"]["queue"]["pending_jobs"], int)
    assert during["app1"]["rate_limits"]["counting"] == "shared"

    def fallbacks(role):
        return (metric(after[role], "avycenna_ratelimit_fallbacks_total")
                - metric(before[role], "avycenna_ratelimit_fallbacks_total"))
    assert fallbacks("app2") >= 1 and fallbacks("app1") == 0
    slow = max(e["seconds"] for e in load.log)
    summary("cut app2 off Redis 10 s", answers, load,
            f"; one key's budget {BUDGET}/min: {allowed_while_cut} allowed during the cut, {allowed_after} after")
    assert slow < CLIENT_TIMEOUT


def test_kill_the_worker_mid_delivery(hosts):
    lab, receiver = hosts.lab, hosts.receiver
    with Load(hosts) as load:
        time.sleep(2)
        receiver.delay = 3  # receivers answer slowly: a delivery is in flight for 3 s
        already = len(receiver.requests)
        deadline = time.monotonic() + 30
        while len(receiver.requests) == already:
            assert time.monotonic() < deadline, "no webhook delivery started"
            time.sleep(0.02)
        lab.kill("worker")  # SIGKILL while the receiver holds the request
        in_flight = {headers["webhook-id"] for _, headers, _ in receiver.requests[already:]}
        receiver.delay = 0
        running = hosts.metrics("app1")
        time.sleep(1)
        hosts.start_worker()
        time.sleep(3)
    hosts.check(load, "kill the worker")
    rows = hosts.check_webhooks(load)
    # The deliveries cut short were sent again, with the same webhook-id, and delivered.
    attempts = {row[0]: row[5] for row in rows}
    received = Counter(headers["webhook-id"] for _, headers, _ in receiver.requests)
    for message_id in in_flight:
        assert received[message_id] >= 2 and attempts[message_id] >= 2, (message_id, received[message_id])
    assert metric(running, "avycenna_jobs", kind="webhook_delivery", state="running") >= 1
    assert metric(hosts.metrics("app1"), "avycenna_jobs", kind="webhook_delivery", state="running") == 0
    answers = Counter(entry["status"] for entry in load.log)
    summary("kill -9 the worker mid-delivery", answers, load,
            f"; {len(in_flight)} deliveries in flight, each received again with its webhook-id")
