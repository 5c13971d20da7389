"""The `govcloud` command. `govcloud worker` and `govcloud scheduler` start their processes without
loading Flask; every other command is the portal's Flask CLI (its commands are in portal/cli.py)."""
import importlib
import sys

PROCESSES = {"worker": "provisioner.worker", "scheduler": "scheduler"}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PROCESSES:
        return importlib.import_module(PROCESSES[argv[0]]).main(argv[1:])
    return portal_cli(args=argv)


def _create_app_for_cli():
    from .app import create_app
    from .errors import ConfigError
    try:
        return create_app()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)


def portal_cli(args):
    """`govcloud db upgrade` and the rest: a FlaskGroup over the app's commands (Flask loads here only)."""
    import click
    from flask.cli import FlaskGroup

    @click.group(cls=FlaskGroup, create_app=_create_app_for_cli, add_version_option=False,
                 load_dotenv=False, set_debug_flag=False)
    def main():
        """govcloud portal administration."""
    return main(args=args)


if __name__ == "__main__":
    sys.exit(main())
