"""Readiness: whether this process should be sent traffic now (`GET /health/ready`).

`/health` says the process is alive and reaches its database. Readiness also asks the
parts a request may need — the database, the rate limits' Redis when
`RATELIMIT_STORAGE_URI` names one, the job queue — and says no while the process
drains after SIGTERM (`avycenna.serve`), so a load balancer stops sending it requests.

A part on Redis is asked in a thread of its own and given PROBE_TIMEOUT seconds: a Redis
behind a cut link (whose connect can hang for minutes) makes the answer "no answer", not a
hung probe, and while that question is still open the next probe waits on it instead of
starting another thread.
"""
import threading

from flask import current_app

from avycenna import jobs
from avycenna.db import ping

PROBE_TIMEOUT = 2.0  # seconds a Redis part has to answer
OK = "ok"
# Parts that may be left out of the verdict (READINESS_OPTIONAL_PARTS); the database and draining may not.
OPTIONAL = ("rate_limits", "queue")

_draining = threading.Event()
_probes = {}  # (part, app id) -> the Probe still asking, or the last one
_probes_lock = threading.Lock()


def start_draining():
    """From now on this process reports itself unready (it is shutting down)."""
    _draining.set()


def draining():
    return _draining.is_set()


class Probe:
    """One question to a part, asked in a daemon thread (one that never holds up an exit)."""

    def __init__(self, question):
        self.answer = None
        self.done = threading.Event()
        threading.Thread(target=self._ask, args=(question,), daemon=True, name="readiness-probe").start()

    def _ask(self, question):
        try:
            self.answer = OK if question() is not False else "unreachable"
        except Exception as exc:  # whatever the client raises, the part is not usable
            self.answer = f"unreachable ({type(exc).__name__})"
        finally:
            self.done.set()

    def wait(self, timeout):
        if self.done.wait(timeout):
            return self.answer
        return f"no answer within {timeout:g} s"


def probe(key, question, timeout):
    """The answer of `question()` about the part `key` names: "ok", or what is wrong."""
    with _probes_lock:
        current = _probes.get(key)
        if current is None or current.done.is_set():
            current = _probes[key] = Probe(question)
    return current.wait(timeout)


def rate_limit_storage(app):
    """The rate limits' shared storage, or None when they count in this process's memory."""
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        return None
    return app.extensions["avycenna_budgets"].storage


def check():
    """(ready, checks, failing): each part's answer ("ok" or what is wrong), and the parts that
    make this process unready (the optional ones in READINESS_OPTIONAL_PARTS never do)."""
    app = current_app._get_current_object()
    checks = {"database": OK if ping() else "unreachable"}
    storage = rate_limit_storage(app)
    if storage is not None:
        checks["rate_limits"] = probe(("rate_limits", id(app)), storage.check, PROBE_TIMEOUT)
    checks["queue"] = probe(("queue", id(app)), jobs.pending_count, PROBE_TIMEOUT)
    checks["process"] = "draining" if draining() else "serving"
    optional = set(app.config["READINESS_OPTIONAL_PARTS"])
    failing = [part for part, answer in checks.items()
               if answer not in (OK, "serving") and part not in optional]
    return not failing, checks, failing


def init_app(app):
    """Check READINESS_OPTIONAL_PARTS once, at start (a list, or names separated by commas)."""
    setting = app.config["READINESS_OPTIONAL_PARTS"] or []
    if isinstance(setting, str):
        setting = [part.strip() for part in setting.split(",") if part.strip()]
    unknown = [part for part in setting if part not in OPTIONAL]
    if unknown:
        raise ValueError(f"READINESS_OPTIONAL_PARTS may name {', '.join(OPTIONAL)}, not {unknown}")
    app.config["READINESS_OPTIONAL_PARTS"] = list(setting)
