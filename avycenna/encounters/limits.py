"""The agent budget: 5/hour and 10/day for agent queries and follow-ups together.

Keyed on the user, else the `session_token` in the body (as the strict reader parsed it;
a refused body has none), else the salted hash of the client IP (never the raw address). Anonymous queries also count against one
budget per client IP whatever their session token, so rotating session tokens
cannot multiply it. flask-limiter's shared limits keep the counts in the
configured storage, so processes sharing Redis share the budget.
"""
from flask import current_app, g

from avycenna.encounters.idempotency import is_replay
from avycenna.http import ip_hash
from avycenna.encounters.tokens import digest
from avycenna.jsonbody import request_body_or_none
from avycenna.ratelimit import limiter, never_raises


def agent_query_key():
    actor = g.actor
    if actor.is_user:
        return "agent:user:" + actor.user.id
    body = request_body_or_none()
    token = body.get("session_token") if isinstance(body, dict) else None
    if isinstance(token, str) and token:
        return "agent:session:" + digest(token)
    return "agent:ip:" + ip_hash()


def anonymous_ip_key():
    return "agent:ip-all:" + ip_hash()


def _counted(response):
    # Only a query that was taken counts: a 422 for a short query, a malformed body or a
    # bad credential does not use up an agent's hourly budget (the per-credential limit
    # still counts every request).
    return response.status_code < 400


_per_caller = limiter.shared_limit(
    lambda: current_app.config["AGENT_QUERY_RATE_LIMIT"], scope="agent-query",
    key_func=never_raises(agent_query_key), exempt_when=is_replay, deduct_when=_counted, override_defaults=False)
_per_anonymous_ip = limiter.shared_limit(
    lambda: current_app.config["AGENT_QUERY_RATE_LIMIT"], scope="agent-query-ip",
    key_func=never_raises(anonymous_ip_key), exempt_when=lambda: g.actor.is_user or is_replay(),
    deduct_when=_counted, override_defaults=False)


def agent_query_limit(view):
    """The agent budget on a view: per caller, and for anonymous callers per client IP too."""
    return _per_caller(_per_anonymous_ip(view))
