"""`GET /metrics`: the Prometheus exposition, for admins only.

No credential is the 401 of every account endpoint; an account that is not an admin's gets
the 404 of a resource it may not see (nothing says the metrics are there for it).
Prometheus scrapes it with an admin's API key as its bearer token.
"""
from flask import Response, request
from flask.views import MethodView

from avycenna.actor import AUTH_HEADER, USER_SECURITY, current_actor
from avycenna.blueprint import Blueprint
from avycenna.errors import fail, not_found
from avycenna.metrics.registry import exposition

blp = Blueprint("metrics", __name__, url_prefix="/metrics",
                description="Operations: the server's metrics in the Prometheus text format (admins only).")

TEXT = {"schema": {"type": "string"}, "example": "avycenna_http_requests_total{method=\"GET\","
        "route=\"/api/v1/patients\",status=\"200\"} 42.0\n"}


@blp.route("")
class Metrics(MethodView):
    @blp.doc(security=USER_SECURITY, responses={
        "200": {"description": "The metrics (Prometheus text format 0.0.4, or OpenMetrics when asked "
                               "for in `Accept`).", "content": {"text/plain": TEXT}},
        "401": "UNAUTHORIZED", "404": "NOT_FOUND"})
    def get(self):
        """Admins: requests, latency, refusals, jobs, webhooks, imports and exports, pool, version."""
        actor = current_actor()
        if not actor.is_user:
            fail(401, "Authentication required.", AUTH_HEADER)
        if actor.role != "admin":
            not_found()
        body, content_type = exposition(request.headers.get("Accept", ""))
        return Response(body, content_type=content_type)
