"""`flask --app app oauth …`: an admin registers (and disables) SMART Backend Services clients."""
import click

from avycenna.db import database


@click.group("oauth")
def oauth_cli():
    """OAuth clients registered by an admin (EHR connectors: SMART Backend Services)."""


@oauth_cli.command("add-backend-client")
@click.option("--owner", "owner_email", required=True, help="E-mail of the clinician account it reads as.")
@click.option("--name", required=True, help="What the client is, e.g. 'Clinic EHR connector'.")
@click.option("--jwks", "jwks_file", required=True, type=click.File("r"),
              help="A file with the client's JSON Web Key Set (public RSA or EC keys, each with a kid).")
@click.option("--scope", default="system/*.rs", show_default=True, help="system/*.rs or system/*.read.")
def add_backend_client(owner_email, name, jwks_file, scope):
    """Register a backend client (client credentials with a private_key_jwt assertion) for a clinician;
    prints its client_id."""
    from avycenna.auth.users import find_user_by_email
    from avycenna.oauth.backend import register_backend_client

    text = jwks_file.read(64 * 1024 + 1)
    if len(text) > 64 * 1024:
        raise click.ClickException("the JWKS file is over 64 KiB")
    with database.obj.connection_context():
        row = register_backend_client(find_user_by_email(owner_email), name, text, scope)
    click.echo(row.id)


@oauth_cli.command("disable-client")
@click.argument("client_id")
def disable_client_command(client_id):
    """Disable a client: its tokens stop working on their next request."""
    from avycenna.oauth.backend import disable_client

    with database.obj.connection_context():
        if not disable_client(client_id):
            raise click.ClickException(f"no enabled client {client_id}")
    click.echo(f"disabled {client_id}")
