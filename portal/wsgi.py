"""WSGI entry point for gunicorn: `gunicorn portal.wsgi:app`.

The portal's pages talk to the cloud (catalog, capacity, console logs, backups): in production it
does not start without a clouds.yaml (no silent fall-back to the dev cloud); the CLI does.
"""
from portal import create_app
from portal.settings import is_production, require_clouds_yaml

app = create_app()
if is_production(app.config):
    require_clouds_yaml(app.config)
