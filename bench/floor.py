"""What the stack itself costs: bare Flask vs Flask doing only the unavoidable part of an
authenticated read, both under waitress (8 threads) as in bench/overhead.py.

Cases (bench/floor_apps.py): `read`, bare Flask plus the one account read per request that
revocation needs; `smorest`, that read answered through flask-smorest and a marshmallow
schema. Neither checks a credential, counts a budget, adds headers or ids. Their ratios to
the bare app bound what `GET /auth/me` can reach on this stack (issue 12: ≥ 0.5).
Interleaved rounds, the servers on one core and wrk on the other, SQLite only.
"""
import os
import sys
import tempfile

from bench.overhead import ROUNDS, THREADS, cores, report, spawn, start_bare, stop, wait_up, wrk
from bench.setup import free_port, make_instance


def start(target, env, core):
    port = free_port()
    proc = spawn([sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={port}", f"--threads={THREADS}",
                  target], env, core)
    wait_up(f"http://127.0.0.1:{port}/", proc)
    return proc, f"http://127.0.0.1:{port}/"


def main():
    server_core, load_core = cores()
    with tempfile.TemporaryDirectory() as instance:
        _, patient, _ = make_instance(instance)
        env = dict(os.environ, FLOOR_DB=os.path.join(instance, "avycenna.sqlite3"), FLOOR_USER=patient.account_id)
        procs = []
        try:
            bare, bare_url = start_bare(server_core)
            procs.append(bare)
            urls = {}
            for name in ("read", "smorest"):
                proc, urls[name] = start(f"bench.floor_apps:{name}", env, server_core)
                procs.append(proc)
            runs = {name: [] for name in urls}
            for _ in range(ROUNDS):
                for name, url in urls.items():
                    runs[name].append((wrk(bare_url + "/", load_core), wrk(url, load_core)))
        finally:
            for proc in procs:
                stop(proc)
    print(f"floor (SQLite): waitress {THREADS} threads on core {server_core}, wrk on core {load_core}, "
          f"{ROUNDS} interleaved rounds")
    return report(runs, "floor app", 8)


if __name__ == "__main__":
    main()
