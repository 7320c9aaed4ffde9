"""`flask --app app import-apple-health PATIENT_ID FILE`."""
import os
import uuid

import click


@click.command("import-apple-health")
@click.argument("patient_id")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
def import_apple_health_command(patient_id, path):
    """Import an Apple Health export.zip (or its export.xml) into a patient's wearable samples."""
    from avycenna.db import database
    from avycenna.patients.models import Patient
    from avycenna.wearables.apple_health import ExportUnreadable, import_export

    with database.obj.connection_context():
        try:
            patient = Patient.get_or_none(Patient.id == uuid.UUID(patient_id))
        except ValueError:
            patient = None
        if patient is None or patient.archived_at is not None:
            raise click.ClickException(f"No patient {patient_id}.")
        with click.progressbar(length=os.path.getsize(path), label="Importing") as bar:
            def progress(position, counts=None):
                bar.update(position - bar.pos)
            try:
                counts, skipped = import_export(patient, path, progress)
            except ExportUnreadable as error:
                raise click.ClickException(f"{error} (inserted {error.counts['inserted']}, duplicates "
                                           f"{error.counts['duplicates']}, skipped {sum(error.skipped.values())})")
    click.echo(f"inserted {counts['inserted']}, duplicates {counts['duplicates']}, "
               f"skipped {sum(skipped.values())}")
    for reason, count in sorted(skipped.items()):
        click.echo(f"  skipped {count:>8}  {reason}")
