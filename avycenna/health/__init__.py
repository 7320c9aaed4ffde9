"""`GET /health` (liveness and database reachability) and `GET /health/ready` (readiness for a
load balancer): no auth, no rate limit."""
from flask import current_app, jsonify
from flask.views import MethodView
from avycenna.blueprint import Blueprint
from marshmallow import Schema, fields

from avycenna.clock import isoformat, utcnow
from avycenna.db import ping
from avycenna.readiness import check

blp = Blueprint("health", __name__, url_prefix="/health",
                description="Service health for uptime monitoring and load balancers.")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "healthy"})
    version = fields.String(metadata={"example": "1.0.0"})
    timestamp = fields.String(metadata={"example": "2026-06-30T14:22:00Z"})


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached.")
    def get(self):
        """Report whether the server and its database are up."""
        healthy = ping()
        body = {"status": "healthy" if healthy else "unhealthy",
                "version": current_app.config["API_VERSION"],
                "timestamp": isoformat(utcnow())}
        # Already the documented shape (three strings): answered as is, without a schema dump.
        response = jsonify(body)
        response.status_code = 200 if healthy else 503
        return response


class ReadinessSchema(Schema):
    status = fields.String(metadata={"example": "ready", "description": "`ready` or `unready`."})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Each part's answer: `database`, `rate_limits` (only when they are on Redis), "
                       "`queue` (`ok` or what is wrong) and `process` (`serving` or `draining`).",
        "example": {"database": "ok", "rate_limits": "ok", "queue": "ok", "process": "serving"}})
    failing = fields.List(fields.String(), metadata={
        "description": "The parts that make this process unready (empty when ready).", "example": []})
    version = fields.String(metadata={"example": "1.0.0"})
    timestamp = fields.String(metadata={"example": "2026-06-30T14:22:00Z"})


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema,
                      description="A part this process needs is not usable, or it is shutting down.")
    def get(self):
        """Report whether this process should get traffic: database, Redis, queue, not draining."""
        ready, checks, failing = check()
        response = jsonify({"status": "ready" if ready else "unready", "checks": checks, "failing": failing,
                            "version": current_app.config["API_VERSION"], "timestamp": isoformat(utcnow())})
        response.status_code = 200 if ready else 503
        return response
