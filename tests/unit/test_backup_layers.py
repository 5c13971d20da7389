"""The backup engine runs in the scheduler process: it imports no Flask and no openstack (cloud
calls go through provisioner/cloud.py)."""
import pathlib
import subprocess
import sys

ENGINE = ["backup", "backup.engine", "backup.policies", "backup.schedule", "backup.verify", "backup.restore",
          "backup.export", "backup.jobs", "portal.models.backups"]


def test_backup_engine_imports_no_flask():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in ENGINE)
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_babel', "
              "'flask_login', 'flask_wtf', 'werkzeug'))\nprint(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_backup_calls_the_cloud_only_through_provisioner_cloud():
    root = pathlib.Path(__file__).resolve().parents[2] / "backup"
    offenders = [p.name for p in root.rglob("*.py")
                 if "import openstack" in p.read_text() or "from openstack" in p.read_text()]
    assert offenders == []
