"""Issue 14: the worker and the scheduler start on portal.settings and portal.runtime, without Flask;
only the provisioner/cloud package talks to OpenStack; backup/ and provisioner/ import no views."""
import ast
import os
import pathlib
import subprocess
import sys

from tests.unit.conftest import FLASKISH

REPO = pathlib.Path(__file__).resolve().parents[2]
NO_FLASK = ("bad = sorted(m for m in sys.modules if m.split('.')[0] in %r)\n"
            "print('flask modules:', bad)\nsys.exit(1 if bad else 0)\n" % (FLASKISH,))


def _run(code, tmp_path, **env):
    db = tmp_path / "govcloud.db"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVCLOUD_")}
    environ.update(GOVCLOUD_DATABASE_URL=f"sqlite:///{db}", GOVCLOUD_SECRET_KEY="layer-test",
                   GOVCLOUD_INSTANCE_PATH=str(tmp_path), **env)
    prelude = f"import sys\nfrom portal import migrate\nmigrate.upgrade('sqlite:///{db}')\n"
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=REPO, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_the_worker_starts_and_runs_without_flask(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n")
    result = _run("from provisioner import worker\nassert worker.main(['--once']) is None\n" + NO_FLASK,
                  tmp_path, GOVCLOUD_CLOUDS_YAML=str(clouds))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scheduler_starts_and_runs_a_job_without_flask(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n")
    code = ("from scheduler import process as scheduler, runtime\n"
            "assert scheduler.main(['--run-once', 'deliver_notifications']) == 0\n"
            "from portal.models.operations import JobRun\n"
            "with runtime.session_scope() as s:\n"
            "    assert s.query(JobRun).filter_by(job_id='deliver_notifications', outcome='success').count() == 1\n"
            + NO_FLASK)
    result = _run(code, tmp_path, GOVCLOUD_CLOUDS_YAML=str(clouds))
    assert result.returncode == 0, result.stdout + result.stderr


def test_in_production_a_missing_clouds_yaml_stops_the_worker_and_the_scheduler(tmp_path):
    code = ("from scheduler import process as scheduler\nfrom provisioner import worker\n"
            "assert worker.main(['--once']) == 2\nassert scheduler.main([]) == 2\n")
    unnamed = _run(code, tmp_path)
    assert unnamed.returncode == 0, unnamed.stdout + unnamed.stderr
    assert unnamed.stderr.count("CLOUDS_YAML: is required in production") == 2
    absent = _run(code, tmp_path, GOVCLOUD_CLOUDS_YAML=str(tmp_path / "nope.yaml"))
    assert absent.returncode == 0 and absent.stderr.count("nope.yaml does not exist") == 2, absent.stderr
    web = _run("import portal.wsgi\n", tmp_path)  # gunicorn's entry point: the portal does not start either
    assert web.returncode != 0 and "CLOUDS_YAML: is required in production" in web.stderr, web.stderr
    # in development and tests the dev cloud's clouds.yaml is the default
    dev = _run("from portal.settings import DEV_CLOUDS_YAML, load_settings\n"
               "assert load_settings({'TESTING': True})['CLOUDS_YAML'] == DEV_CLOUDS_YAML\n", tmp_path)
    assert dev.returncode == 0, dev.stderr


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _product_files(*packages):
    for package in packages:
        yield from (p for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts)


def test_only_the_cloud_package_imports_openstack():
    talking = sorted(str(p.relative_to(REPO)) for p in _product_files("portal", "provisioner", "monitoring", "backup",
                                                                      "scheduler")
                     if any(m.split(".")[0] in ("openstack", "keystoneauth1") for m in _imports(p)))
    assert talking == ["provisioner/cloud/connection.py"]


def test_backup_and_the_provisioner_import_no_views_and_no_flask():
    bad = sorted(f"{p.relative_to(REPO)}: {m}" for p in _product_files("backup", "provisioner")
                 for m in _imports(p) if m.split(".")[0] in FLASKISH or m.endswith(".views") or m == "portal.app")
    assert bad == []
