"""`GET /health`: liveness and database reachability, no auth, no rate limit."""
from flask import current_app, jsonify
from flask.views import MethodView
from avycenna.blueprint import Blueprint
from marshmallow import Schema, fields

from avycenna.clock import isoformat, utcnow
from avycenna.db import ping

blp = Blueprint("health", __name__, url_prefix="/health",
                description="Service health for uptime monitoring.")


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
