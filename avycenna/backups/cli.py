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

    Writes DEST and DEST.secret_key, then DEST.json (the SHA-256 of both, schema version,
    row counts), all 0600; an existing DEST is never overwritten. Keep the key with the
    backup and as safe as it: whoever has both can sign in as anyone."""
    from avycenna.db import database

    with database.connection_context():
        manifest = service.take_backup(dest, keep)
    click.echo(f"backup: {manifest['path']}")
    click.echo(f"schema version {manifest['schema_version']}, sha256 {manifest['sha256']}, "
               f"{manifest['size_bytes']} bytes, {sum(manifest['row_counts'].values())} rows")
    if "secret_key" in manifest["files"]:
        click.echo("WARNING: the secret key is beside it (.secret_key); store both as securely as the "
                   "database itself.")
    else:
        click.echo("the secret key comes from the configuration (SECRET_KEY), not instance/secret_key: "
                   "it is not in the backup; keep it safe yourself.")
    for name in manifest.get("pruned", []):
        click.echo(f"pruned: {name}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
@with_appcontext
def restore_command(file, force):
    """Restore a backup into this (stopped) instance, then upgrade it to this release.

    Checks the SHA-256 of every file of the backup first; refused while `python app.py` or
    `flask worker` runs on this instance."""
    result = service.restore(file, force=force)
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
    with click.progressbar(length=total, label="copying rows") as bar:
        digests = copy.copy_to(url, batch, progress=bar.update)
    for table, (count, checksum) in digests.items():
        click.echo(f"  {table}: {count} rows, checksum {checksum[:16]}… matches")
    click.echo(f"copied {sum(c for c, _ in digests.values())} rows; point DATABASE_URL at the target "
               "and start the server")
