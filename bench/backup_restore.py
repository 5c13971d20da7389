"""Durations of a backup run (server snapshot + 1 GB volume backup), a verification, and restores
(new volume, in place, server rebuild) against the dev cloud; SQLite database, printed figures.

    python bench/backup_restore.py [--volume-gb N]
"""
import argparse
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sqlalchemy.orm import Session  # noqa: E402

from backup import engine, policies, restore, verify  # noqa: E402
from portal import migrate  # noqa: E402
from portal.database import make_engine  # noqa: E402
from portal.services.audit import RequestInfo  # noqa: E402
from provisioner.cloud import Cloud  # noqa: E402
from tests.integration.backup_fixtures import make_system, purge_backups  # noqa: E402

CTX = RequestInfo(correlation_id="bench-backup")


def build_project(cloud, prefix, volume_gb):
    project_id = cloud.create_project(f"{prefix}-dept", "govcloud backup bench")
    cloud.grant_member(project_id)
    net = cloud.create_network(project_id, f"{prefix}-net")
    cloud.create_subnet(project_id, f"{prefix}-subnet", net, "10.89.0.0/24")
    server_id = cloud.create_server(project_id, f"{prefix}-web-1", "m1.tiny", "cirros-devcloud", net, "default",
                                    None, {})
    volume_id = cloud.create_volume(project_id, f"{prefix}-web-1-data", volume_gb, {})
    cloud.wait_for_server(project_id, server_id)
    cloud.wait_for_volume(project_id, volume_id)
    cloud.attach_volume(project_id, server_id, volume_id)
    return {"prefix": prefix, "project_id": project_id, "server_id": server_id, "volume_id": volume_id}


def destroy_project(cloud, project_id):
    conn = cloud.project(project_id)
    purge_backups(cloud, project_id)
    for server in list(conn.compute.servers()):
        cloud.delete_server(project_id, server.id)
    for volume in list(conn.block_storage.volumes()):
        cloud.delete_volume(project_id, volume.id)
    for net in list(conn.network.networks(project_id=project_id)):
        conn.network.delete_network(net)
    cloud.admin.identity.delete_project(project_id)
    for sg in list(cloud.admin.network.security_groups(project_id=project_id)):
        cloud.admin.network.delete_security_group(sg)


def timed_restore(session, cloud, artifact, mode, settings):
    started = time.monotonic()
    job = restore.start_restore(session, CTX, cloud, artifact, mode, settings=settings)
    call = time.monotonic() - started
    restore.wait_for_restore(session, cloud, job, timeout=900, poll=0.5)
    assert job.state == "succeeded", (job.error_message, job.error_detail)
    return call, time.monotonic() - started, job


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volume-gb", type=int, default=1)
    args = parser.parse_args()
    prefix = "gcbench" + uuid.uuid4().hex[:6]
    cloud = Cloud()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.db"
    migrate.upgrade(url)
    db = make_engine(url)
    started = time.monotonic()
    project = build_project(cloud, prefix, args.volume_gb)
    print(f"project with a server and a {args.volume_gb} GB attached volume: {time.monotonic() - started:.1f} s")
    settings = {"CLOUD_NAME_PREFIX": prefix}
    try:
        with Session(db, expire_on_commit=False) as session:
            dept, system, _s, _v = make_system(session, project, "BENCH")
            policy = policies.create_policy(session, CTX, dept.id, {
                "name": "bench", "system_id": system.id, "kinds": "both", "cron": "0 2 * * *", "keep_count": "2"})
            run = engine.run_policy(session, cloud, policy, settings=settings, ctx=CTX)
            assert run.state == "succeeded", (run.error_message, run.error_detail)
            arts = {a.kind: a for a in run.artifacts}
            print(f"backup run (snapshot + volume backup, waited): {run.duration_seconds:.1f} s")
            for kind, a in sorted(arts.items()):
                print(f"  {kind}: created -> available {(a.completed_at - a.created_at).total_seconds():.1f} s")
            t = time.monotonic()
            verify.verify_policy(session, CTX, cloud, policy, settings=settings)
            print(f"verification (scratch restore of the volume backup + image check): {time.monotonic() - t:.1f} s")
            for mode, kind in (("new_volume", "volume"), ("in_place", "volume"), ("server_rebuild", "snapshot")):
                call, total, job = timed_restore(session, cloud, arts[kind], mode, settings)
                print(f"restore {mode}: first cloud call {call * 1000:.0f} ms, complete {total:.1f} s")
                if mode == "new_volume":
                    cloud.delete_volume(project["project_id"], job.target_openstack_id)
    finally:
        destroy_project(cloud, project["project_id"])
        cloud.close()
        db.dispose()


if __name__ == "__main__":
    main()
