"""Test hosts for the fault drill: network namespaces joined by veth links, on this machine.

    root (the test: clients, webhook receiver)  .1 ─┐
    lb     nginx, the documented block          .10 ─┤
    app1   python app.py                        .11 ─┤
    app2   python app.py                        .12 ─┼─ bridge (in its own namespace "sw")
    worker flask --app app worker               .13 ─┤
    db     PostgreSQL (initdb/pg_ctl as postgres) .20 ─┤
    cache  redis-server                         .21 ─┘
    cache ══ app1, cache ══ app2: a point-to-point link each, over which that app host reaches
    Redis; setting the cache's end down cuts that one host off Redis (packets vanish, as
    behind a pulled cable), and nothing else.

Everything is made here and taken away by `close()`: the namespaces carry a unique id (so
parallel runs do not collide), their processes are ended by pid, and the machine's own
PostgreSQL and Redis are never touched. Only the root end of one veth (`avd<id>`, with a
/24 no route of the machine uses) lives outside the namespaces.
"""
import glob
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTS = {"lb": 10, "app1": 11, "app2": 12, "worker": 13, "db": 20, "cache": 21}
REDIS_LINKS = {"app1": "192.168.101", "app2": "192.168.102"}  # cache .1, app host .2 (a /30 each)
APP_PORT = 8000


def run(*args, timeout=60, check=True):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr or done.stdout}")
    return done


def postgres_bin(name):
    """A PostgreSQL server program (initdb, pg_ctl): on PATH, else Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing_tools():
    """Why the drill cannot run here, or None."""
    if os.geteuid() != 0:
        return "the fault drill builds network namespaces: run it as root"
    for tool, path in (("ip", shutil.which("ip")), ("nginx", os.environ.get("AVYCENNA_TEST_NGINX", "/usr/sbin/nginx")),
                       ("redis-server", shutil.which("redis-server")), ("initdb", postgres_bin("initdb")),
                       ("pg_ctl", postgres_bin("pg_ctl")), ("runuser", shutil.which("runuser"))):
        if not path or not os.path.exists(path):
            return f"the fault drill needs {tool}"
    try:
        run("id", "postgres")
    except RuntimeError:
        return "the fault drill runs PostgreSQL as the `postgres` user, which does not exist"
    probe = "avdprobe" + uuid.uuid4().hex[:6]
    try:
        run("ip", "netns", "add", probe)
        run("ip", "netns", "del", probe)
    except (RuntimeError, OSError) as error:
        return f"`ip netns` is not available here ({error})"
    return None


def free_subnet():
    """A 10.x.y.0/24 that no address or route of this machine uses."""
    used = run("ip", "-4", "route", "show", "table", "all").stdout + run("ip", "-4", "addr").stdout
    for _ in range(200):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        if prefix + "." not in used:
            return prefix
    raise RuntimeError("no free 10.x.y.0/24 for the drill's hosts")


class Lab:
    """The drill's hosts: `build()` makes them, `close()` takes every trace away."""

    def __init__(self):
        self.id = uuid.uuid4().hex[:6]
        self.dir = tempfile.mkdtemp(prefix=f"avydrill-{self.id}-")
        os.chmod(self.dir, 0o755)  # the postgres user reaches its own folder inside
        self.namespaces = []
        self.processes = {}  # role -> Popen (apps, worker, nginx, redis)
        self.logs = {}  # role -> log path
        self.prefix = None
        self.pg_home = os.path.join(self.dir, "pg")  # the postgres user's: its data, socket and log
        self.pg_data = os.path.join(self.pg_home, "data")
        self.redis_port = random.randint(20000, 29999)
        self.pg_port = random.randint(30000, 39999)
        self.lb_port = 8443

    # Addresses ---------------------------------------------------------------------------

    def ip(self, role):
        return f"{self.prefix}.{1 if role == 'root' else HOSTS[role]}"

    def ns(self, role):
        return f"avd{self.id}-{role}"

    def redis_address(self, role):
        """Where `role` reaches Redis: its own link for an app host, else the bridge."""
        return f"{REDIS_LINKS[role]}.1" if role in REDIS_LINKS else self.ip("cache")

    @property
    def database_url(self):
        return f"postgresql://postgres@{self.ip('db')}:{self.pg_port}/avycenna"

    def redis_url(self, role):
        return f"redis://{self.redis_address(role)}:{self.redis_port}/0"

    def app_url(self, role):
        return f"http://{self.ip(role)}:{APP_PORT}"

    # Building ----------------------------------------------------------------------------

    def build(self):
        self.prefix = free_subnet()
        sw = self.ns("sw")
        for role in ["sw", *HOSTS]:
            run("ip", "netns", "add", self.ns(role))
            self.namespaces.append(self.ns(role))
            run("ip", "-n", self.ns(role), "link", "set", "lo", "up")
        run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", sw, "link", "set", "br0", "up")
        root_end = f"avd{self.id}"
        run("ip", "link", "add", root_end, "type", "veth", "peer", "name", "p-root", "netns", sw)
        run("ip", "addr", "add", f"{self.ip('root')}/24", "dev", root_end)
        run("ip", "link", "set", root_end, "up")
        run("ip", "-n", sw, "link", "set", "p-root", "master", "br0", "up")
        for role in HOSTS:
            run("ip", "-n", self.ns(role), "link", "add", "eth0", "type", "veth", "peer", "name", f"p-{role}",
                "netns", sw)
            run("ip", "-n", sw, "link", "set", f"p-{role}", "master", "br0", "up")
            run("ip", "-n", self.ns(role), "addr", "add", f"{self.ip(role)}/24", "dev", "eth0")
            run("ip", "-n", self.ns(role), "link", "set", "eth0", "up")
        for role, net in REDIS_LINKS.items():
            run("ip", "-n", self.ns("cache"), "link", "add", f"to-{role}", "type", "veth", "peer", "name", "redis",
                "netns", self.ns(role))
            run("ip", "-n", self.ns("cache"), "addr", "add", f"{net}.1/30", "dev", f"to-{role}")
            run("ip", "-n", self.ns(role), "addr", "add", f"{net}.2/30", "dev", "redis")
            run("ip", "-n", self.ns("cache"), "link", "set", f"to-{role}", "up")
            run("ip", "-n", self.ns(role), "link", "set", "redis", "up")

    def cut_redis(self, role, cut=True):
        """Pull (or plug back) the cable between `role` and the cache host, at the cache's end."""
        run("ip", "-n", self.ns("cache"), "link", "set", f"to-{role}", "down" if cut else "up")

    # Processes ---------------------------------------------------------------------------

    def spawn(self, role, args, env=None, log_name=None):
        """Start `args` inside `role`'s namespace; its output goes to a log file."""
        log_path = self.logs[log_name or role] = os.path.join(self.dir, f"{log_name or role}.log")
        with open(log_path, "a") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns(role), *args], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes[log_name or role] = proc  # `ip netns exec` execs the program: this is its pid
        return proc

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.processes.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def start_postgres(self):
        os.makedirs(self.pg_home)
        shutil.chown(self.pg_home, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        run(*as_postgres, postgres_bin("initdb"), "-D", self.pg_data, "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", timeout=120)
        with open(os.path.join(self.pg_data, "pg_hba.conf"), "a") as hba:
            hba.write(f"host all all {self.prefix}.0/24 trust\n")
        options = f"-c listen_addresses={self.ip('db')} -p {self.pg_port} -k {self.pg_home} -c max_connections=200"
        self.logs["postgres"] = os.path.join(self.pg_home, "postgres.log")
        run("ip", "netns", "exec", self.ns("db"), *as_postgres, postgres_bin("pg_ctl"), "-D", self.pg_data,
            "-l", self.logs["postgres"], "-o", options, "-w", "start", timeout=120)

    def restart_postgres(self):
        run("ip", "netns", "exec", self.ns("db"), "runuser", "-u", "postgres", "--", postgres_bin("pg_ctl"),
            "-D", self.pg_data, "-l", self.logs["postgres"], "-m", "fast", "-w", "restart", timeout=120)

    def start_redis(self):
        self.spawn("cache", ["redis-server", "--port", str(self.redis_port), "--bind", "0.0.0.0",
                             "--protected-mode", "no", "--dir", self.dir, "--save", "3600 1",
                             "--appendonly", "no", "--dbfilename", "redis.rdb"])
        self.wait_for_tcp(self.ip("cache"), self.redis_port, "redis-server")

    def wait_for_tcp(self, host, port, what, seconds=60):
        import socket

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{what} did not listen on {host}:{port}\n{self.tail()}")

    def wait_for_log(self, name, text, seconds=60):
        """Until `name`'s log holds `text` (a process saying it has started)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            proc = self.processes.get(name)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{name} exited\n{self.tail(name)}")
            with open(self.logs[name]) as fh:
                if text in fh.read():
                    return
            time.sleep(0.1)
        raise AssertionError(f"{name} did not log {text!r}\n{self.tail(name)}")

    def wait_ready(self, role, seconds=60):
        """Until `role`'s /health/ready answers 200 (a fresh process: started and connected)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            proc = self.processes.get(role)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{role} exited\n{self.tail(role)}")
            try:
                if requests.get(self.app_url(role) + "/health/ready", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{role} is not ready\n{self.tail(role)}")

    def tail(self, *names, lines=30):
        out = []
        for name in names or self.logs:
            try:
                with open(self.logs[name]) as fh:
                    out.append(f"--- {name}\n" + "".join(fh.readlines()[-lines:]))
            except (KeyError, OSError):
                pass
        return "\n".join(out)

    # Taking it all away ------------------------------------------------------------------

    def close(self):
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        if os.path.exists(os.path.join(self.pg_data, "postmaster.pid")):
            run("ip", "netns", "exec", self.ns("db"), "runuser", "-u", "postgres", "--", postgres_bin("pg_ctl"),
                "-D", self.pg_data, "-m", "immediate", "-w", "stop", timeout=60, check=False)
        for namespace in self.namespaces:  # anything still running in our namespaces: ours, by pid
            pids = run("ip", "netns", "pids", namespace, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for namespace in reversed(self.namespaces):
            run("ip", "netns", "del", namespace, check=False)
        run("ip", "link", "del", f"avd{self.id}", check=False)  # gone with the switch's namespace already
        shutil.rmtree(self.dir, ignore_errors=True)
