"""The `govcloud` command. `govcloud worker` and `govcloud scheduler` start their processes without
loading Flask; every other command is the portal's Flask CLI (portal.cli)."""
import importlib
import sys

PROCESSES = {"worker": "provisioner.worker", "scheduler": "monitoring.scheduler"}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PROCESSES:
        return importlib.import_module(PROCESSES[argv[0]]).main(argv[1:])
    from .cli import main as portal_cli  # Flask, only for the portal's own commands
    return portal_cli(args=argv)


if __name__ == "__main__":
    sys.exit(main())
