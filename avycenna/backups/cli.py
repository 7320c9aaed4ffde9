"""`flask --app app backup`, `flask --app app restore`, `flask --app app db copy`."""
import click
from flask.cli import with_appcontext

from avycenna.backups import copy, service


@click.command("backup")
@click.argument("dest", required=False)
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Afterwards keep only the newest N backups in the folder.")
@with_appcontext
def backup_command(dest, keep):
    """Back up the database while the server keeps running (default: instance/backups/).

    Writes DEST (0600), DEST.json (checksum, schema version, row counts) and
    DEST.secret_key. Keep the key with the backup and as safe as it: whoever has both
    can sign in as anyone."""
    from avycenna.db import database

    try:
        with database.connection_context():
            manifest = service.take_backup(dest, keep)
    except service.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"backup: {manifest['path']}")
    click.echo(f"schema version {manifest['schema_version']}, sha256 {manifest['sha256']}, "
               f"{manifest['size_bytes']} bytes, {sum(manifest['row_counts'].values())} rows")
    click.echo("WARNING: the secret key is beside it (.secret_key); store both as securely as the "
               "database itself.")
    for name in manifest.get("pruned", []):
        click.echo(f"pruned: {name}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
@with_appcontext
def restore_command(file, force):
    """Restore a backup into this (stopped) instance, then upgrade it to this release."""
    try:
        result = service.restore(file, force=force)
    except service.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"restored {file} (schema version {result['schema_version']})")
    if result["applied"]:
        click.echo("upgraded: " + ", ".join(result["applied"]))
    if result["key_replaced"]:
        click.echo("the backup's secret key is now instance/secret_key (the previous one was kept beside it)")
    for table, count in result["row_counts"].items():
        click.echo(f"  {table}: {count}")


@click.command("copy")
@click.option("--to", "url", required=True, help="The empty target database, e.g. postgresql://user@host/db.")
@click.option("--batch", type=click.IntRange(min=1), default=copy.BATCH, show_default=True)
@with_appcontext
def copy_command(url, batch):
    """Copy every table to another (empty) database, SQLite ⇄ PostgreSQL, and verify it."""
    total = copy.total_rows()
    try:
        with click.progressbar(length=total, label="copying rows") as bar:
            digests = copy.copy_to(url, batch, progress=bar.update)
    except copy.CopyError as exc:
        raise click.ClickException(str(exc))
    for table, (count, checksum) in digests.items():
        click.echo(f"  {table}: {count} rows, checksum {checksum[:16]}… matches")
    click.echo(f"copied {sum(c for c, _ in digests.values())} rows; point DATABASE_URL at the target "
               "and start the server")
