"""Bodies, query arguments and responses of the wearables endpoints.

The ingest body is validated by plain code (validate.py) for speed; the schemas
here describe it in the OpenAPI document.
"""
from marshmallow import Schema, fields, validate

from avycenna.schemas import Cursor, Timestamp, page_schema
from avycenna.wearables.types import TYPES

TYPE_NAMES = tuple(TYPES)


class SampleSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(TYPE_NAMES), metadata={"example": "heart_rate"})
    start = Timestamp(required=True)
    end = Timestamp(metadata={"description": "For interval samples (steps, sleep …)."})
    value = fields.Raw(required=True, metadata={
        "description": "A number; {\"systolic\", \"diastolic\"} for blood_pressure; a stage for sleep.",
        "example": 72})
    unit = fields.String(metadata={"example": "count/min", "description": "Required except for sleep."})


class SeriesSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(TYPE_NAMES))
    unit = fields.String()
    start = fields.List(fields.Raw(), required=True,
                        metadata={"description": "ISO 8601 times or epoch milliseconds."})
    end = fields.List(fields.Raw())
    value = fields.List(fields.Raw(), required=True)


class IngestSchema(Schema):
    source = fields.String(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"example": "apple_watch"})
    samples = fields.List(fields.Nested(SampleSchema), metadata={"description": "Basic form."})
    series = fields.List(fields.Nested(SeriesSchema), metadata={
        "description": "Compact form: one type and unit, parallel arrays. At most 10,000 samples in all."})

    @classmethod
    def json_schema_keywords(cls):
        """`samples`, `series` or both (validate.parse_body: neither is a 422, and neither is nullable)."""
        return {"anyOf": [{"required": ["samples"]}, {"required": ["series"]}]}


class IngestResultSchema(Schema):
    inserted = fields.Integer()
    duplicates = fields.Integer()
    checkpoint = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Per type: the latest start stored from this source.",
        "example": {"heart_rate": "2026-11-20T08:00:00Z"}})


class RangeArgs(Schema):
    type = fields.String(required=True, validate=validate.OneOf(TYPE_NAMES))
    start = Timestamp(load_default=None, metadata={"description": "Default: 30 days before end."})
    end = Timestamp(load_default=None, metadata={
        "description": "Default: now. At or before `start`: an empty window (no data)."})


class SampleQueryArgs(RangeArgs):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = Cursor()


class SummaryArgs(RangeArgs):
    bucket = fields.String(load_default="hour", validate=validate.OneOf(("hour", "day")))


class StoredSampleSchema(Schema):
    type = fields.String()
    source = fields.String()
    start = fields.String(metadata={"example": "2026-11-20T08:00:00Z"})
    end = fields.String(allow_none=True)
    value = fields.Raw()
    unit = fields.String()


class StatsSchema(Schema):
    min = fields.Float()
    max = fields.Float()
    mean = fields.Float()


class BucketSchema(StatsSchema):
    start = fields.String(metadata={"example": "2026-11-20T08:00:00Z"})
    count = fields.Integer()
    sum = fields.Float(metadata={"description": "The bucket's total. Amounts (steps, distance, energy, sleep, "
                                                "workout) take one source per hour by the holder's priority; "
                                                "minutes never exceed the bucket's length."})
    diastolic = fields.Nested(StatsSchema, allow_none=True, metadata={"description": "blood_pressure only."})


class SummarySchema(Schema):
    type = fields.String()
    unit = fields.String(metadata={"description": "Of min/max/mean; minutes per interval for sleep."})
    bucket = fields.String()
    data = fields.List(fields.Nested(BucketSchema))


class TypeSchema(Schema):
    type = fields.String()
    unit = fields.String(metadata={"description": "Canonical unit: values are stored in it."})
    accepted_units = fields.List(fields.String())
    description = fields.String()
    interval = fields.Boolean(metadata={"description": "Samples need start and end."})
    stages = fields.List(fields.String(), metadata={"description": "Allowed values (sleep only)."})


class SourceOrderSchema(Schema):
    priority = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                           validate=validate.Length(max=50),
                           metadata={"description": "Source names, first wins; unlisted sources follow "
                                                    "(watches first, then by name).",
                                     "example": ["Kim's Apple Watch", "Kim's iPhone"]})


class SourceSchema(Schema):
    id = fields.String(allow_none=True, metadata={"example": "wsrc_8Hq2LmZt4RcX",
                                                  "description": "The `source_id` events name it by."})
    source = fields.String()
    rank = fields.Integer(metadata={"description": "1 = counted first."})


class NamedSourceSchema(Schema):
    id = fields.String(metadata={"example": "wsrc_8Hq2LmZt4RcX"})
    source = fields.String(attribute="name", metadata={"example": "Kim's Apple Watch",
                                                       "description": "The name the device or app gave."})
    first_seen_at = Timestamp(attribute="created_at", metadata={"description": "Its first batch."})


StoredSamplePageSchema = page_schema(StoredSampleSchema, "WearableSamplePage")


TypeListSchema = page_schema(TypeSchema, "WearableTypeList")


SourceListSchema = page_schema(SourceSchema, "WearableSourceList")
