"""Bodies of /api/v1/api-keys."""
from marshmallow import Schema, fields

from avycenna.schemas import Name, Timestamp


class NewKeySchema(Schema):
    name = Name(100, required=True, metadata={"example": "sync script"})


class KeySchema(Schema):
    id = fields.String(metadata={"example": "key_4Fq9ZtLmP2aB"})
    name = fields.String()
    prefix = fields.String(metadata={"example": "avk_a7f3c91e"})
    created_at = Timestamp()
    last_used_at = Timestamp(allow_none=True)


class CreatedKeySchema(KeySchema):
    key = fields.String(metadata={"description": "The full key. Shown only this once."})
