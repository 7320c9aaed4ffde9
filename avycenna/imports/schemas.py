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


def _header(name, description, schema, required=True):
    return {"in": "header", "name": name, "required": required, "schema": schema, "description": description}


BYTES = {"type": "integer", "minimum": 0}
TUS_RESUMABLE = _header("Tus-Resumable", "The tus version (412 otherwise).", {"type": "string", "enum": ["1.0.0"]})
UPLOAD_CREATE_HEADERS = [
    TUS_RESUMABLE,
    _header("Upload-Length", "The file's size in bytes, at most IMPORTS_MAX_CONTENT_LENGTH (2 GB by default).",
            BYTES),
    _header("Upload-Metadata", "`filename <base64 of the name>` (other keys are ignored).",
            {"type": "string", "maxLength": 4096, "pattern": "^[^\\u0000]*$"}, required=False),
]
UPLOAD_PATCH_HEADERS = [
    TUS_RESUMABLE,
    _header("Upload-Offset", "Where this piece starts: the upload's offset (409 otherwise).", BYTES),
    _header("Content-Type", "The piece's type (415 otherwise).",
            {"type": "string", "enum": ["application/offset+octet-stream"]}),
]
UPLOAD_PIECE = {"required": True, "content": {"application/offset+octet-stream": {"schema": {
    "type": "string", "format": "binary",
    "description": "The next bytes of the file, at most IMPORTS_UPLOAD_CHUNK_SIZE (8 MB by default)."}}}}
_OFFSET = {"schema": {"type": "integer"}, "description": "Bytes received and stored."}
_EXPIRES = {"schema": {"type": "string"}, "description": "When the unfinished upload and its bytes are deleted."}
_RESUMABLE = {"schema": {"type": "string"}, "description": "`1.0.0`"}
UPLOAD_CREATED = {"description": "The upload is created: send its bytes with PATCH to `Location`.",
                  "headers": {"Location": {"schema": {"type": "string"}}, "Upload-Offset": _OFFSET,
                              "Upload-Expires": _EXPIRES, "Tus-Resumable": _RESUMABLE}}
UPLOAD_STATE = {"description": "The upload's offset (resume from there) and length; no body.",
                "headers": {"Upload-Offset": _OFFSET, "Upload-Length": {"schema": {"type": "integer"}},
                            "Upload-Expires": _EXPIRES, "Tus-Resumable": _RESUMABLE}}
UPLOAD_PATCHED = {"description": "The piece is stored. With the last one the file is a queued import: "
                                 "`Import-Location` is its status.",
                  "headers": {"Upload-Offset": _OFFSET, "Upload-Expires": _EXPIRES, "Tus-Resumable": _RESUMABLE,
                              "Import-Location": {"schema": {"type": "string"},
                                                  "description": "With the last piece only."}}}
UPLOAD_OPTIONS = {"description": "What this server speaks.",
                  "headers": {"Tus-Version": {"schema": {"type": "string"}, "description": "`1.0.0`"},
                              "Tus-Extension": {"schema": {"type": "string"},
                                                "description": "`creation,termination,expiration`"},
                              "Tus-Max-Size": {"schema": {"type": "integer"},
                                               "description": "IMPORTS_MAX_CONTENT_LENGTH"}}}
