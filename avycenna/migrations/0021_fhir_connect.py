"""FHIR for connectors: incremental and group bulk exports.

- `wearable_sample.received_ms`: when a sample was stored (epoch ms), so `_since` can ask what
  changed. Samples stored before this migration are given its own time: an export `_since` an
  earlier moment includes them (never misses one), a later one does not.
- `fhir_export.since` (the kick-off's `_since`) and `fhir_export.kind` (patient, group or
  system: which patients it holds).
"""
import time

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('wearable_sample', 'received_ms', BigIntegerField(null=True)),
        migrator.add_column('fhir_export', 'since', DateTimeField(null=True)),
        migrator.add_column('fhir_export', 'kind', CharField(max_length=16, default='patient')),
    )
    db.execute_sql('UPDATE "wearable_sample" SET received_ms = %d WHERE received_ms IS NULL'
                   % int(time.time() * 1000))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('fhir_export', 'kind'),
        migrator.drop_column('fhir_export', 'since'),
        migrator.drop_column('wearable_sample', 'received_ms'),
    )
