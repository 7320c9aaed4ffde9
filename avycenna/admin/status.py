"""/api/v1/admin/status: the operator's view of the instance (admins only)."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint
from marshmallow import Schema, fields

from avycenna.actor import auth_required
from avycenna.backups.status import status
from avycenna.schemas import Timestamp

blp = Blueprint("admin_status", __name__, url_prefix="/api/v1/admin",
                description="Administration: the instance's state (schema, size, backups, jobs).")


class DatabaseStatusSchema(Schema):
    backend = fields.String(metadata={"example": "sqlite"})
    size_bytes = fields.Integer()
    wal_size_bytes = fields.Integer(allow_none=True, metadata={"description": "SQLite only; null on PostgreSQL."})


class BackupStatusSchema(Schema):
    created_at = Timestamp()
    path = fields.String()
    size_bytes = fields.Integer()
    schema_version = fields.String()


class QueueStatusSchema(Schema):
    pending_jobs = fields.Integer(allow_none=True, metadata={"description": "null when the queue is unreachable."})


class RateLimitStatusSchema(Schema):
    storage = fields.String(metadata={"description": "`memory` (one process) or `redis` (shared).",
                                      "example": "redis"})
    counting = fields.String(metadata={
        "description": "`shared` (in Redis), or `per_process`: this process counts budgets in its own "
                       "memory (always with `memory`; with `redis`, for a few seconds after Redis failed "
                       "to answer, then it tries again).", "example": "shared"})
    last_fallback_at = Timestamp(allow_none=True, metadata={
        "description": "When this process last fell back to counting alone; null if never since it started."})


class AdminStatusSchema(Schema):
    schema_version = fields.String(allow_none=True, metadata={"example": "0015_backups"})
    database = fields.Nested(DatabaseStatusSchema)
    last_backup = fields.Nested(BackupStatusSchema, allow_none=True,
                                metadata={"description": "null until `flask --app app backup` has run."})
    queue = fields.Nested(QueueStatusSchema)
    rate_limits = fields.Nested(RateLimitStatusSchema, metadata={
        "description": "The answering process's rate-limit counting."})


@blp.route("/status")
class Status(MethodView):
    @auth_required("admin")
    @blp.response(200, AdminStatusSchema)
    def get(self):
        """Admins: schema version, database and WAL size, the last backup, the job queue's depth and the rate limits' state."""
        return status()
