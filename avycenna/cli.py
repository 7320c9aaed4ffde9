"""Command-line tools: `flask --app app db …`, `flask --app app create-user …`."""
import click
from flask.cli import AppGroup, with_appcontext

from avycenna import migrate

db_cli = AppGroup("db", help="Database schema: upgrade, status, make, schema; copy to another database.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations (keeps existing data)."""
    applied = migrate.upgrade()
    click.echo("applied: " + ", ".join(applied) if applied else "database is up to date")


@db_cli.command("status")
def db_status():
    """List migrations and whether each is applied."""
    for row in migrate.status():
        click.echo(f"{'applied' if row.applied else 'pending'}  {row.name}")


@db_cli.command("make")
@click.argument("name")
def db_make(name):
    """Write the next migration from what the models add to the database."""
    path = migrate.make(name)
    click.echo(f"wrote {path}" if path else "models and database agree: nothing to write")


@db_cli.command("schema")
def db_schema():
    """Rewrite schema.sql from the models."""
    with open(migrate.SCHEMA_SQL, "w") as fh:
        fh.write(migrate.schema_sql())
    click.echo(f"wrote {migrate.SCHEMA_SQL}")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["member", "clinician", "admin"]), default="member")
@click.option("--name", default="")
@click.option("--password", default=None, help="Omit to sign in by e-mail OTP only.")
def create_user_command(email, role, name, password):
    """Create an account (admins are made this way at install time)."""
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.errors import ApiError

    with database.obj.connection_context():
        try:
            user = create_user(email, role=role, name=name, password=password)
        except ApiError as exc:
            raise click.ClickException(exc.description)
    click.echo(f"created {user.role} {user.id} <{user.email}>")


@click.command("housekeeping")
@with_appcontext
def housekeeping_command():
    """Expire overdue encounters; send on checked-out encounters whose payment arrived (and
    invoice those left without one); delete expired sign-in codes, refresh tokens, browser
    sessions and Idempotency-Key records. The server also does this every hour by itself."""
    from avycenna import housekeeping
    from avycenna.db import database

    with database.obj.connection_context():
        counts = housekeeping.run()
    click.echo("; ".join(f"{name}: {n}" for name, n in counts.items()))


@click.command("worker")
@click.option("--workers", type=int, default=None, help="Worker threads (default: QUEUE_WORKERS).")
def worker_command(workers):
    """Run background jobs (webhook deliveries, imports, exports) until stopped.

    Needed only with QUEUE_URL=redis://…; without it `python app.py` runs them itself."""
    from flask import current_app

    from avycenna import jobs

    jobs.run_worker(workers or int(current_app.config["QUEUE_WORKERS"]))


def init_app(app):
    from avycenna.backups.cli import backup_command, copy_command, restore_command

    db_cli.add_command(copy_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from avycenna.wearables.cli import import_apple_health_command

    app.cli.add_command(db_cli)
    app.cli.add_command(create_user_command)
    app.cli.add_command(housekeeping_command)
    app.cli.add_command(worker_command)
    from avycenna.encounters.cli import expire_encounters_command
    app.cli.add_command(expire_encounters_command)
    app.cli.add_command(import_apple_health_command)
