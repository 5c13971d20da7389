"""govcloud portal: the self-service web application of the government cloud (政务云).

Importing portal (or its models and services) does not import Flask; create_app does.
"""


def create_app(config=None):
    """Build the portal web application (see portal.app.create_app)."""
    from .app import create_app as _create_app
    return _create_app(config)
