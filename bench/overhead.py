"""Per-request overhead: AVYCENNA vs a bare Flask app, both served by waitress (8 threads).

Each server process is pinned to one core and `wrk` (Debian's package) to the other, so
the load generator never competes with the server it measures. Three interleaved rounds:
for each case, the bare app and then AVYCENNA, so a busy neighbour on the machine slows
both alike. Cases: `GET /health`, `GET /api/v1/auth/me` with a JWT, and with an API key;
the bare app answers `GET /` with a small JSON dict every time. Ratio = AVYCENNA's
requests/s / the bare app's (goals: /health ≥ 0.8, /auth/me ≥ 0.5).

The same runs against PostgreSQL (+ Redis for the rate-limit counts) when both answer on
127.0.0.1. Rate limits stay on (raised so the load is never refused: every request is
still counted and gets its headers); any non-2xx answer fails the run.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests

from bench.setup import ROOT, drop_pg_database, free_port, make_instance, pg_database, redis_reachable

ROUNDS = 3
SECONDS = 3
CONNECTIONS = 16
THREADS = 8
# A one-second window this wide refuses nothing, and keeps the moving window about as long as
# the real budgets keep it (1,000 a minute per API key), so counting costs what it costs in use.
LIMIT = "100000/second"


def cores():
    """(server core, load-generator core): two different CPUs when there are two."""
    available = sorted(os.sched_getaffinity(0))
    return available[0], available[-1]


def spawn(argv, env, core):
    """Start a server pinned to `core` (the affinity is set before exec, so every thread inherits it)."""
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: os.sched_setaffinity(0, {core}))


def wait_up(url, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {url}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("server did not start: " + url)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_bare(core):
    port = free_port()
    proc = spawn([sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={port}", f"--threads={THREADS}",
                  "bench.bare:app"], dict(os.environ), core)
    wait_up(f"http://127.0.0.1:{port}/", proc)
    return proc, f"http://127.0.0.1:{port}"


def start_avycenna(instance, core, extra_env):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVYCENNA_") and k != "DATABASE_URL"}
    env.update({"AVYCENNA_INSTANCE_PATH": instance, "AVYCENNA_RATELIMIT_JWT": LIMIT,
                "AVYCENNA_RATELIMIT_API_KEY": LIMIT, "AVYCENNA_RATELIMIT_ANONYMOUS": LIMIT}, **extra_env)
    proc = spawn([sys.executable, "app.py", "--port", str(port), "--threads", str(THREADS)], env, core)
    wait_up(f"http://127.0.0.1:{port}/health", proc)
    return proc, f"http://127.0.0.1:{port}"


def wrk(url, core, headers=()):
    """Requests/s of `wrk` against `url`; any non-2xx answer or socket error fails the run."""
    argv = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s"]
    for header in headers:
        argv += ["-H", header]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {core})).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk saw failed requests:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def credentials(app, key):
    """A fresh JWT for the instance's account, and its API key."""
    from avycenna.api_keys.models import ApiKey
    from avycenna.auth.tokens import issue_access_token
    from avycenna.db import database

    with app.app_context(), database.obj.connection_context():
        user = ApiKey.get().user
        token = issue_access_token(user)
    return token, key


def measure(label, app_url, bare_url, token, key, server_core, load_core):
    cases = [("GET /health", "/health", ()),
             ("GET /auth/me, JWT", "/api/v1/auth/me", (f"Authorization: Bearer {token}",)),
             ("GET /auth/me, API key", "/api/v1/auth/me", (f"X-API-Key: {key}",))]
    for _, path, headers in cases:  # warm both (imports, pools, first queries)
        requests.get(app_url + path, headers=dict(h.split(": ", 1) for h in headers)).raise_for_status()
    results = {name: [] for name, _, _ in cases}
    for _ in range(ROUNDS):
        for name, path, headers in cases:
            bare = wrk(bare_url + "/", load_core)
            ours = wrk(app_url + path, load_core, headers)
            results[name].append((bare, ours))
    print(f"overhead ({label}): waitress {THREADS} threads on core {server_core}, wrk -c{CONNECTIONS} on core "
          f"{load_core}, {ROUNDS} interleaved rounds of {SECONDS}s")
    return report(results, "AVYCENNA", 22)


def report(results, served, width):
    """Print each case's median rates and ratio to the bare app; {case: median ratio}.
    `results`: {case: [(bare requests/s, served requests/s) per round]}."""
    ratios = {}
    for name, runs in results.items():
        per_round = [ours / bare for bare, ours in runs]
        ratios[name] = statistics.median(per_round)
        print(f"  {name:<{width}} bare {statistics.median(b for b, _ in runs):7.0f}/s  {served} "
              f"{statistics.median(o for _, o in runs):7.0f}/s  ratio {ratios[name]:.2f}  "
              f"(rounds {' '.join(f'{r:.2f}' for r in per_round)})")
    return ratios


def run(label, extra_env, database_url=None):
    server_core, load_core = cores()
    with tempfile.TemporaryDirectory() as instance:
        app, _, key = make_instance(instance, database_url)
        token, key = credentials(app, key)
        bare, bare_url = start_bare(server_core)
        try:
            ours, app_url = start_avycenna(instance, server_core, extra_env)
            try:
                return measure(label, app_url, bare_url, token, key, server_core, load_core)
            finally:
                stop(ours)
        finally:
            stop(bare)


def main():
    if shutil.which("wrk") is None:
        print("overhead: skipped, wrk is not installed (apt-get install wrk; `make bench` does)")
        return None
    results = {"sqlite": run("SQLite, memory rate limits", {})}
    url = pg_database()
    if url and redis_reachable():
        from bench.setup import REDIS_URL as redis
        try:
            results["postgresql"] = run("PostgreSQL + Redis rate limits", {
                "DATABASE_URL": url, "RATELIMIT_STORAGE_URI": redis, "AVYCENNA_QUEUE_URL": redis,
                "AVYCENNA_QUEUE_NAME": "avybench-" + uuid.uuid4().hex,
                "AVYCENNA_RATELIMIT_KEY_PREFIX": "avybench-" + uuid.uuid4().hex}, url)
        finally:
            drop_pg_database(url)
    else:
        print("overhead (PostgreSQL + Redis): skipped, not reachable on 127.0.0.1")
    return results


if __name__ == "__main__":
    main()
