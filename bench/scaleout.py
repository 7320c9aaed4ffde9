"""Scale-out: one and then two `python app.py` processes on the same PostgreSQL + Redis.

Throughput (requests/s, `wrk`) of an authenticated read (`GET /api/v1/auth/me` with an API
key) and of ingest (one new sample per POST, as a phone app sends them), first all of the
load on one process (the baseline), then split over two processes (one `wrk` each, half the
connections); three interleaved rounds; ratio = two / one. Then the SQL statements and Redis
round trips one request of each endpoint class costs (counted in-process, as
tests/test_round_trips.py counts them and keeps their budget): a count, the same on a noisy
machine as on a quiet one.

On a two-core machine both processes, PostgreSQL, Redis and wrk share the same two cores:
the ratio shows that a second process adds no contention of its own (shared budgets, pool,
locks), not what a second host would add.
"""
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import uuid

import requests

from bench.setup import REDIS_URL, drop_pg_database, free_port, make_instance, pg_database, redis_reachable, \
    start_server, stop_server

ROUNDS = 3
SECONDS = 3
CONNECTIONS = 16
LIMIT = "100000/second"  # counted like the real budgets, never refused

INGEST_LUA = r"""
local n = 0
local offset = 0
init = function(args) offset = tonumber(args[1]); wrk.headers["Content-Type"] = "application/json" end
request = function()
  n = n + 1
  local t = offset + n
  local body = string.format('{"source":"bench","samples":[{"type":"heart_rate",' ..
    '"start":"2026-%02d-%02dT%02d:%02d:%02dZ","value":%d,"unit":"count/min"}]}',
    1 + math.floor(t / 2419200) % 12, 1 + math.floor(t / 86400) % 28, math.floor(t / 3600) % 24,
    math.floor(t / 60) % 60, t % 60, 55 + t % 60)
  return wrk.format("POST", nil, nil, body)  -- with the -H headers and the one above
end
local told = false
response = function(status, headers, body)
  if status >= 300 and not told then told = true; io.stderr:write(status .. " " .. body .. "\n") end
end
"""


def wrk_together(targets, connections, headers, script=None):
    """Run one `wrk` per (url, script argument) at once; their summed requests/s."""
    runs = []
    for url, arg in targets:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s"]
        for header in headers:
            argv += ["-H", header]
        if script:
            argv += ["-s", script]
        argv.append(url)
        if script:
            argv += ["--", str(arg)]
        runs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    total = 0.0
    for run in runs:
        out, err = run.communicate()
        if run.returncode or "Non-2xx" in out or "Socket errors" in out:
            raise RuntimeError("wrk saw failed requests:\n" + out + err)
        total += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return total


def throughput(bases, key, patient_id, script):
    cases = [("read, API key", "/api/v1/auth/me", None),
             ("ingest, 1 sample", f"/api/v1/patients/{patient_id}/wearables", script)]
    headers = (f"X-API-Key: {key}",)
    offsets = iter(range(0, 10 ** 9, 10 ** 7))  # each wrk run writes samples no other run writes
    results = {name: [] for name, _, _ in cases}
    for _ in range(ROUNDS):
        for name, path, lua in cases:
            one = wrk_together([(bases[0] + path, next(offsets))], CONNECTIONS, headers, lua)
            two = wrk_together([(base + path, next(offsets)) for base in bases], CONNECTIONS // 2, headers, lua)
            results[name].append((one, two))
    print(f"scaleout (PostgreSQL + Redis): wrk -c{CONNECTIONS} on one process, then -c{CONNECTIONS // 2} on "
          f"each of two; {ROUNDS} interleaved rounds of {SECONDS}s; {os.cpu_count()} cores shared by all")
    for name, runs in results.items():
        ratios = [two / one for one, two in runs]
        print(f"  {name:<18} one process {statistics.median(o for o, _ in runs):7.0f}/s  two processes "
              f"{statistics.median(t for _, t in runs):7.0f}/s  ratio {statistics.median(ratios):.2f}  "
              f"(rounds {' '.join(f'{r:.2f}' for r in ratios)})")


def round_trips(app):
    """SQL statements and Redis round trips per request of each endpoint class, in-process."""
    from avycenna.api_keys.service import create_key
    from avycenna.auth.tokens import issue_access_token
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.patients.models import Patient
    from tests.round_trips import endpoint_classes, measure

    with app.app_context(), database.obj.connection_context():
        user = create_user(f"counts-{uuid.uuid4().hex[:8]}@example.test")
        _, key = create_key(user, "counts")
        token = issue_access_token(user)
        patients = [Patient.create(account=user, name="Counted", date_of_birth="1980-01-01", relationship=r)
                    for r in ("self", "child", "child")]
    client = app.test_client()
    print("  round trips per request (SQL statements, Redis):")
    for name, make_request, expected in endpoint_classes(client, {"Authorization": f"Bearer {token}"},
                                                         {"X-API-Key": key}, patients[0].id):
        sql, trips = measure(make_request, expected)
        print(f"    {name:<22} {sql:2d} SQL  {trips:2d} Redis")


def main():
    if shutil.which("wrk") is None:
        print("scaleout: skipped, wrk is not installed (apt-get install wrk; `make bench` does)")
        return
    url = pg_database()
    if not url or not redis_reachable():
        print("scaleout: skipped, PostgreSQL and Redis must answer on 127.0.0.1")
        if url:
            drop_pg_database(url)
        return
    prefix, queue = "avybench-" + uuid.uuid4().hex, "avybench-" + uuid.uuid4().hex
    env = {"DATABASE_URL": url, "RATELIMIT_STORAGE_URI": REDIS_URL, "AVYCENNA_QUEUE_URL": REDIS_URL,
           "AVYCENNA_QUEUE_NAME": queue, "AVYCENNA_RATELIMIT_KEY_PREFIX": prefix, "AVYCENNA_DRAIN_SECONDS": "0",
           "AVYCENNA_RATELIMIT_JWT": LIMIT, "AVYCENNA_RATELIMIT_API_KEY": LIMIT, "AVYCENNA_RATELIMIT_ANONYMOUS": LIMIT}
    try:
        with tempfile.TemporaryDirectory() as instance, tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(INGEST_LUA)
            script.flush()
            app, patient, key = make_instance(instance, url)
            servers, bases = [], []
            try:
                for _ in range(2):
                    port = free_port()
                    servers.append(start_server(instance, port, env))
                    bases.append(f"http://127.0.0.1:{port}")
                requests.get(bases[0] + "/api/v1/auth/me", headers={"X-API-Key": key}).raise_for_status()
                throughput(bases, key, patient.id, script.name)
            finally:
                for server in servers:
                    stop_server(server)
            from avycenna import create_app
            counted = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "RATELIMIT_STORAGE_URI": REDIS_URL,
                                  "RATELIMIT_KEY_PREFIX": prefix, "QUEUE_URL": REDIS_URL, "QUEUE_NAME": queue})
            round_trips(counted)
    finally:
        drop_pg_database(url)


if __name__ == "__main__":
    main()
