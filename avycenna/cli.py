"""Command-line tools: `flask --app app db …`, `flask --app app create-user …`.

Every command registered here answers a known failure in one line (`Error: …`, exit 1),
never a traceback: `one_line_errors` turns the domain's errors into click's.
"""
import functools
import os

import click
from flask.cli import AppGroup, with_appcontext
from peewee import OperationalError, ProgrammingError

from avycenna import instancelock, migrate
from avycenna.backups.copy import CopyError
from avycenna.backups.service import BackupError
from avycenna.errors import ApiError

# Failures an operator can act on; anything else is a bug and keeps its traceback.
OPERATOR_ERRORS = (BackupError, CopyError, instancelock.InstanceBusy)
NOT_UPGRADED = ("no such table", "does not exist")


def one_line(exc):
    """The message an operator reads for a known failure, or None for a bug."""
    if isinstance(exc, OPERATOR_ERRORS):
        return str(exc)
    if isinstance(exc, ApiError):
        return exc.description
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    if isinstance(exc, (OperationalError, ProgrammingError)):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if any(words in text for words in NOT_UPGRADED):
            return f"the database is not upgraded ({text}): run `flask --app app db upgrade` first"
        return f"database error: {text}"
    return None


def one_line_errors(command):
    """Wrap `command` (and a group's subcommands) so known failures end in one line."""
    for sub in getattr(command, "commands", {}).values():
        one_line_errors(sub)
    callback = command.callback
    if callback is None or getattr(callback, "one_line_errors", False):
        return command

    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:
            message = one_line(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None

    run.one_line_errors = True
    command.callback = run
    return command

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
    """Create an account (admins are made this way at install time).

    Upgrades the database first, as `python app.py` does, so it works on a fresh instance."""
    from avycenna.auth.users import create_user
    from avycenna.db import database

    applied = migrate.upgrade()
    if applied:
        click.echo("database upgraded: " + ", ".join(applied))
    with database.obj.connection_context():
        user = create_user(email, role=role, name=name, password=password)
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
@click.option("--queue", type=click.Choice(["all", "default", "bulk"]), default="all", show_default=True,
              help="Which queue's jobs: default (webhook deliveries, housekeeping, short jobs), bulk "
                   "(imports, FHIR exports), or both.")
@click.option("--workers", type=int, default=None,
              help="Worker threads per queue (default: QUEUE_WORKERS, and QUEUE_BULK_WORKERS for bulk).")
def worker_command(queue, workers):
    """Run background jobs (webhook deliveries, imports, exports) until stopped.

    Needed only with QUEUE_URL=redis://…; without it `python app.py` runs them itself.
    Each queue has workers of its own, so a long import never holds up a delivery.
    Holds the instance lock shared, as a server does: no restore runs under a worker."""
    from flask import current_app

    from avycenna import jobs

    lock = instancelock.hold_shared(current_app.instance_path)
    try:
        jobs.run_worker(jobs.worker_counts(current_app, queue, workers))
    finally:
        os.close(lock)


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
    from avycenna.oauth.cli import oauth_cli
    app.cli.add_command(oauth_cli)
    for command in (db_cli, backup_command, restore_command, create_user_command, housekeeping_command,
                    worker_command, expire_encounters_command, import_apple_health_command, oauth_cli):
        one_line_errors(command)
