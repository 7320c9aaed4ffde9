"""Wearable samples (times as epoch milliseconds) and their hourly rollups."""
from peewee import BigIntegerField, CharField, DoubleField, ForeignKeyField, IntegerField

from avycenna.db import BaseModel
from avycenna.patients.models import Patient


class WearableSample(BaseModel):
    """One measurement. (patient, type, start_ms, source) is unique: re-sent samples are ignored."""

    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)  # led by the unique index
    type = CharField(max_length=32)
    source = CharField(max_length=64)
    start_ms = BigIntegerField()
    end_ms = BigIntegerField(null=True)
    value = DoubleField()  # canonical unit; systolic for blood pressure; a stage code for sleep
    value2 = DoubleField(null=True)  # diastolic for blood pressure

    class Meta:
        indexes = ((("patient", "type", "start_ms", "source"), True),)


class WearableHourly(BaseModel):
    """count/sum/min/max per patient, type and UTC hour, kept in step with every ingest."""

    patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)  # led by the unique index
    type = CharField(max_length=32)
    hour_ms = BigIntegerField()  # start of the hour, epoch milliseconds
    count = IntegerField()
    sum = DoubleField()
    min = DoubleField()
    max = DoubleField()
    sum2 = DoubleField(null=True)  # diastolic, for blood pressure
    min2 = DoubleField(null=True)
    max2 = DoubleField(null=True)

    class Meta:
        indexes = ((("patient", "type", "hour_ms"), True),)
