"""CLI of issue 9: `govcloud billing collect | rate | report`."""
import click
from flask import current_app
from flask.cli import with_appcontext


def _month(value):
    try:
        year, month = (int(p) for p in value.split("-", 1))
    except ValueError:
        raise click.BadParameter("use YYYY-MM") from None
    if not 1 <= month <= 12:
        raise click.BadParameter("month must be 01..12")
    return year, month


@click.group("billing", help="Usage, statements and monthly reports.")
def billing_group():
    pass


@billing_group.command("collect", help="Sample the cloud's usage once (what the scheduler does periodically).")
@with_appcontext
def collect_command():
    from scheduler.billing_jobs import collect_usage_once
    from provisioner.cloud import Cloud
    from ..extensions import db
    cloud = Cloud.from_config(current_app.config)
    try:
        run = collect_usage_once(db.session, current_app.config, cloud)
    finally:
        cloud.close()
    click.echo(f"metering run {run.id}: {run.state}, {run.resources} resources")


@billing_group.command("close-month", help="Rate every department's month and generate the monthly summary.")
@click.option("--month", "month_text", required=True, help="YYYY-MM")
@with_appcontext
def close_month_command(month_text):
    from scheduler.billing_jobs import close_month
    from ..extensions import db
    year, month = _month(month_text)
    report = close_month(db.session, year, month)
    click.echo(f"monthly report {report.id} for {year}-{month:02d}: {len(report.entries)} departments")


def register(app):
    app.cli.add_command(billing_group)
