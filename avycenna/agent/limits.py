"""The agent budget: 5/hour and 10/day for agent queries and follow-ups together.

Keyed on the user, else the `session_token` in the body, else the salted hash of
the client IP (never the raw address). flask-limiter's shared limit keeps the
count in the configured storage, so processes sharing Redis share the budget.
"""
from flask import current_app, g, request

from avycenna.agent.idempotency import is_replay
from avycenna.auth.actor import ip_hash
from avycenna.encounters.tokens import digest
from avycenna.ratelimit import limiter


def agent_query_key():
    actor = g.actor
    if actor.is_user:
        return "agent:user:" + actor.user.id
    body = request.get_json(silent=True)
    token = body.get("session_token") if isinstance(body, dict) else None
    if isinstance(token, str) and token:
        return "agent:session:" + digest(token)
    return "agent:ip:" + ip_hash()


agent_query_limit = limiter.shared_limit(
    lambda: current_app.config["AGENT_QUERY_RATE_LIMIT"], scope="agent-query",
    key_func=agent_query_key, exempt_when=is_replay,
    # Only a query that was taken counts: a 422 for a short query, a malformed body or a
    # bad credential does not use up an agent's hourly budget (the per-credential limit
    # still counts every request).
    deduct_when=lambda response: response.status_code < 400,
    override_defaults=False)
