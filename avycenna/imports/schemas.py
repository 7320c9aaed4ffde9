"""Responses of the import endpoints (the upload itself is multipart, documented on the view)."""
from marshmallow import Schema, fields


class ProgressSchema(Schema):
    bytes_read = fields.Integer()
    bytes_total = fields.Integer()
    percent = fields.Float(metadata={"example": 42.5})


class ImportSchema(Schema):
    id = fields.String(metadata={"example": "imp_7jRtHvBk2QxZ"})
    patient_id = fields.String()
    filename = fields.String(metadata={"example": "export.zip"})
    status = fields.String(metadata={"description": "queued, running, done or failed."})
    progress = fields.Nested(ProgressSchema)
    inserted = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Samples stored, per type.", "example": {"heart_rate": 120412, "steps": 30211}})
    inserted_total = fields.Integer()
    duplicates = fields.Integer(metadata={"description": "Samples already stored (a re-import stores nothing twice)."})
    skipped = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Records not stored, per reason.",
        "example": {"HKQuantityTypeIdentifierDietaryWater": 12, "unreadable date": 1}})
    error = fields.String(allow_none=True, metadata={
        "description": "Why a failed import stopped (a damaged or truncated file); what was read before is kept."})
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "export.zip from the Health app, or its export.xml, within the server's body limit (MAX_REQUEST_BODY_SIZE, 10 MB by default); a larger file comes as a resumable (tus) upload."}}}}}}
