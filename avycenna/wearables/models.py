"""Wearable samples (times as epoch milliseconds) and their hourly rollups."""
from peewee import BigIntegerField, CharField, DateTimeField, DoubleField, ForeignKeyField, IntegerField, TextField, fn

from avycenna.clock import utcnow
from avycenna.db import BaseModel
from avycenna.ids import new_id
from avycenna.patients.models import Patient


class WearableSample(BaseModel):
    """One measurement, stored as received.

    Unique by (patient, type, start_ms, source, end, value, value2): a re-sent sample is
    ignored, while two samples sharing a start but differing in end or value are both kept.
    """

    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)  # led by the unique index
    type = CharField(max_length=32)
    source = CharField(max_length=64)
    start_ms = BigIntegerField()
    end_ms = BigIntegerField(null=True)
    value = DoubleField()  # canonical unit; systolic for blood pressure; a stage code for sleep
    value2 = DoubleField(null=True)  # diastolic for blood pressure
    detail = TextField(null=True)  # JSON: a workout's activity, distance, energy, heart rates
    received_ms = BigIntegerField(null=True)  # when it was stored (epoch ms), for FHIR's `_since`


# No end (or no diastolic) is one value in the key: NULLs would never conflict.
WearableSample.add_index(WearableSample.index(
    WearableSample.patient, WearableSample.type, WearableSample.start_ms, WearableSample.source,
    fn.COALESCE(WearableSample.end_ms, -1), WearableSample.value, fn.COALESCE(WearableSample.value2, -1),
    unique=True, name="wearable_sample_identity"))


class WearableHourly(BaseModel):
    """count/sum/min/max per patient, type, UTC hour and source, kept in step with every ingest.

    Amounts over an interval (steps, distance, energy) are shared out over the hours it
    covers; sleep and workouts count their minutes in each hour (asleep stages only).
    """

    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)  # led by the unique index
    type = CharField(max_length=32)
    hour_ms = BigIntegerField()  # start of the hour, epoch milliseconds
    source = CharField(max_length=64, default="")
    count = IntegerField()
    sum = DoubleField()
    min = DoubleField()
    max = DoubleField()
    sum2 = DoubleField(null=True)  # diastolic, for blood pressure
    min2 = DoubleField(null=True)
    max2 = DoubleField(null=True)

    class Meta:
        indexes = ((("patient", "type", "hour_ms", "source"), True),)


class WearableSourceOrder(BaseModel):
    """The holder's priority of sources for a patient's summaries (JSON list, first wins)."""

    patient = ForeignKeyField(Patient, on_delete="CASCADE", unique=True)
    sources = TextField(default="[]")


class WearableSource(BaseModel):
    """A device or app that sent a patient's samples, named by an id of its own.

    A source's name is free text its device chose ("Alice's iPhone"), so events carry this
    id instead; whoever may read the patient's wearables reads the name behind it through
    the API, audited.
    """

    id = CharField(primary_key=True, max_length=32, default=lambda: new_id("wsrc"))
    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)  # led by the unique index
    name = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("patient", "name"), True),)
