"""What every request goes through, in order, as one hook before the view and one after.

Before the view: the start time, a database connection, the request id, the caller
(credential resolved once), their rate-limit budget spent, a present-but-invalid credential
refused, a body that is not JSON refused, unstorable text refused. After it: a refusal's
deferred audit rows written, the request id, the budget's headers, Retry-After only where
it belongs, the request's webhook deliveries handed to the queue, the small per-path
headers, and the request counted for /metrics.

Flask runs each registered hook through its async check and its context-local lookups,
which on this many hooks cost as much as the steps themselves; one hook each way keeps the
same steps for less.

Each step is handed the request and `g` (after the view, the response first): an
attribute read through Flask's context-local proxies costs about as much as a Python call
chain of four, and the steps made some thirty of them on every request. The two hooks
take the objects behind the proxies with werkzeug's `_get_current_object()` (a private
name): without it a request costs 5-11 % more (bench/private_names.py,
docs/performance.md); tests/test_private_names.py fails if werkzeug drops it.
"""
from flask import g, request

from avycenna import http, instruments, ratelimit
from avycenna.audit.service import write_deferred
from avycenna.actor import load_actor, reject_invalid_credentials
from avycenna.db import connect_for_request
from avycenna.docs import add_docs_policy
from avycenna.mcp import link_card_from_home
from avycenna.webhooks import enqueue_deliveries


BEFORE = (
    instruments.start_timer,
    connect_for_request,
    http.assign_request_id,
    load_actor,
    ratelimit.spend_budget,
    reject_invalid_credentials,
    http.require_json_body,
    http.reject_unstorable_text,
)


def before_request():
    req, req_g = request._get_current_object(), g._get_current_object()
    for step in BEFORE:
        step(req, req_g)


def after_request(response):
    req, req_g = request._get_current_object(), g._get_current_object()
    for step in AFTER:
        response = step(response, req, req_g)
    return response


def init_app(app):
    """Install both hooks (before `ratelimit.init_app`, which takes over flask-limiter's)."""
    app.before_request(before_request)
    app.after_request(after_request)


AFTER = (
    http.honest_empty_responses,
    write_deferred,
    http.add_request_id,
    ratelimit.named_limit_headers,
    ratelimit.budget_headers,
    ratelimit.only_429_retries,
    enqueue_deliveries,
    add_docs_policy,
    link_card_from_home,
    instruments.count_request,
)
