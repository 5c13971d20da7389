"""The provisioning worker (`provisioner.worker --once`) that kills itself with SIGKILL at one chosen
point, for the crash tests; production code carries no hook for this.

    python tests/integration/crash_worker.py --kill-at step:<step name>
        dies just before JobRunner.step(<step name>): the previous step is complete and committed
    python tests/integration/crash_worker.py --kill-at created:<name suffix>
        dies right after the Cloud.create_* call for a resource whose name ends with the suffix
        returned: the resource exists in OpenStack, its id is not stored ("created:rule" = the
        first security group rule)

A point that is never reached lets the worker finish normally (exit status 0 instead of -9).
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from provisioner import runner, worker  # noqa: E402
from provisioner.cloud import Cloud  # noqa: E402

# create_* method -> index of the name among its positional arguments
CREATES = {"create_project": 0, "create_router": 1, "create_network": 1, "create_subnet": 1,
           "create_security_group": 1, "create_keypair": 1, "create_server": 1, "create_volume": 1,
           "create_floating_ip": 1}


def die():
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point):
    """Patch the runner or the cloud adapter of this process so that it dies at point."""
    kind, _, target = point.partition(":")
    if kind == "step":
        original_step = runner.JobRunner.step

        def step(self, name):
            if name == target:
                die()
            return original_step(self, name)
        runner.JobRunner.step = step
    elif kind == "created" and target == "rule":
        original_rule = Cloud.create_security_group_rule

        def create_rule(self, *args, **kwargs):
            original_rule(self, *args, **kwargs)
            die()
        Cloud.create_security_group_rule = create_rule
    elif kind == "created":
        for method, index in CREATES.items():
            original = getattr(Cloud, method)

            def create(self, *args, _original=original, _index=index, **kwargs):
                result = _original(self, *args, **kwargs)
                if args[_index].endswith(target):
                    die()
                return result
            setattr(Cloud, method, create)
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill-at", required=True)
    args = parser.parse_args()
    arm(args.kill_at)
    worker.main(["--once"])


if __name__ == "__main__":
    main()
