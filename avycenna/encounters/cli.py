"""`flask --app app expire-encounters`: expire encounters not checked out within 72 h."""
import click


@click.command("expire-encounters")
def expire_encounters_command():
    """Expire overdue encounters and forget expired Idempotency-Key records (run from cron)."""
    from avycenna.encounters.idempotency import purge_expired
    from avycenna.db import database
    from avycenna.encounters.lifecycle import expire_due

    with database.obj.connection_context():
        expired, purged = expire_due(), purge_expired()
    click.echo(f"expired {expired} encounter(s); purged {purged} idempotency record(s)")
