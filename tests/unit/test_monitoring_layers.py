"""Monitoring's services and jobs and the scheduler import no Flask: the scheduler runs without the web app."""

from tests.unit.conftest import assert_import_no_flask

BELOW_THE_WEB = ["portal.models.operations", "portal.workdays", "portal.services.maintenance",
                 "portal.services.incidents", "portal.services.probes", "portal.services.sla",
                 "portal.services.jobs", "portal.services.notifications", "portal.services.inventory",
                 "monitoring.jobs", "scheduler.process", "monitoring.metrics", "monitoring.collector",
                 "monitoring.checks", "scheduler.notify"]


def test_monitoring_does_not_import_flask():
    assert_import_no_flask(BELOW_THE_WEB)


def test_only_provisioner_cloud_imports_openstack():
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for d in ("monitoring", "portal") for p in (root / d).rglob("*.py")
                 if "import openstack" in p.read_text() or "from openstack" in p.read_text()]
    assert offenders == []
