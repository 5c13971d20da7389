"""The backup engine runs in the scheduler process: it imports no Flask and no openstack (cloud
calls go through the provisioner/cloud package)."""
import pathlib

from tests.unit.conftest import assert_import_no_flask

ENGINE = ["backup", "backup.engine", "backup.policies", "backup.schedule", "backup.verify", "backup.restore",
          "backup.export", "backup.jobs", "portal.models.backups"]


def test_backup_engine_imports_no_flask():
    assert_import_no_flask(ENGINE)


def test_backup_calls_the_cloud_only_through_provisioner_cloud():
    root = pathlib.Path(__file__).resolve().parents[2] / "backup"
    offenders = [p.name for p in root.rglob("*.py")
                 if "import openstack" in p.read_text() or "from openstack" in p.read_text()]
    assert offenders == []
