"""CLI of issue 4: `govcloud worker` and `govcloud api-token create|revoke`."""
import click
from flask.cli import with_appcontext


@click.command("worker", help="Run the provisioning worker (claims approved requests and provisions them).")
@click.option("--once", is_flag=True, help="Run the due jobs, then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks for new jobs.")
@click.option("--concurrency", default=1, show_default=True,
              help="Jobs this process runs at the same time (PostgreSQL; one per department).")
def worker_command(once, poll, concurrency):
    """`flask --app portal worker`: the same process as `govcloud worker` (portal.entry)."""
    from provisioner.worker import main as worker_main
    worker_main((["--once"] if once else []) + ["--poll", str(poll), "--concurrency", str(concurrency)])


@click.group("api-token", help="Personal API tokens.")
def api_token_group():
    pass


@api_token_group.command("create", help="Create an API token for a user; the token is printed once.")
@click.option("--username", required=True)
@click.option("--name", required=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 365), default=90, show_default=True,
              help="Days until the token expires (at most 365).")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True,
              help="read: GET only; write: every method the user's role allows.")
@with_appcontext
def api_token_create(username, name, days, scope):
    from sqlalchemy import select
    from ..extensions import db
    from ..models.accounts import User
    from ..services import api_tokens
    from ..services.audit import RequestInfo
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    from ..errors import ValidationFailed
    try:
        _token, plaintext = api_tokens.create_token(db.session, RequestInfo(correlation_id="cli"), user, name,
                                                    days=days, scope=scope)
    except ValidationFailed as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(plaintext)


@api_token_group.command("revoke", help="Revoke an API token of a user by its id.")
@click.option("--username", required=True)
@click.option("--token-id", required=True, type=int)
@with_appcontext
def api_token_revoke(username, token_id):
    from sqlalchemy import select
    from ..extensions import db
    from ..models.accounts import User
    from ..services import api_tokens
    from ..services.audit import RequestInfo
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    api_tokens.revoke_token(db.session, RequestInfo(correlation_id="cli"), user, token_id)
    click.echo(f"revoked token {token_id}")


def register(app):
    app.cli.add_command(worker_command)
    app.cli.add_command(api_token_group)
