"""The live inventory's pages against the cloud's own listing (issue 18).

Boots as many servers as the budget allows (up to --servers) in one bench project of the dev cloud
(fake hypervisor, multi-create, no network: the fake host makes about 8-18 servers a minute, so
5,000 real servers take hours on one host; the count reached is printed beside the figures),
syncs them into a PostgreSQL schema of its own with --departments departments, pads the inventory
with rows shaped like the real ones up to --servers (the pages read only the database), then prints:
  - a raw openstacksdk listing of all servers (all projects, pages of 80) on the same cloud;
  - p50/p95 of the vendor's all-servers page (80 rows: unfiltered, by department, by status), a
    department's page and the search, through the portal (Flask, in process);
  - time and API calls of a full sync against a steady-state one (nothing changed).
Usage: .venv/bin/python bench/inventory_pages.py [--servers 5000] [--departments 200] [--budget 600] [--keep]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import openstack  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

CLOUDS = os.environ.get("GOVCLOUD_CLOUDS_YAML", os.path.join(REPO, ".devcloud", "clouds.yaml"))
PG_URL = os.environ.get("GOVCLOUD_TEST_PG_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test"
RUN = "i" + uuid.uuid4().hex[:6]
REPEAT = 30


def admin():
    config = openstack.config.OpenStackConfig(config_files=[CLOUDS], load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud="devcloud"))


def pg_schema():
    parsed = make_url(PG_URL)
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    schema = f"bench_{RUN}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False), drop


def boot(conn, project, target, budget):
    """Multi-create servers in project until target or budget; return the ids of the ACTIVE ones."""
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros-devcloud")
    scoped = conn.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    started, asked = time.monotonic(), 0
    while asked < target and time.monotonic() - started < budget:
        batch = min(50, target - asked)
        scoped.compute.post("/servers", json={"server": {
            "name": f"gc-{RUN}-{asked:05d}", "flavorRef": flavor.id, "imageRef": image.id, "networks": "none",
            "min_count": batch, "max_count": batch}}, microversion="2.37", raise_exc=True)
        asked += batch
        while True:  # one batch at a time: the fake host queues builds behind a lock
            states = [s.status for s in conn.compute.servers(all_projects=True, project_id=project.id)]
            if sum(s != "BUILD" for s in states) >= asked or time.monotonic() - started > budget:
                break
            time.sleep(2)
    ids = [s.id for s in conn.compute.servers(all_projects=True, project_id=project.id) if s.status == "ACTIVE"]
    print(f"booted {len(ids)} servers ACTIVE of {asked} asked in {time.monotonic() - started:.0f} s")
    return ids


def raw_listing(conn):
    started = time.perf_counter()
    n = sum(1 for _ in conn.compute.servers(details=True, all_projects=True, limit=80))
    return time.perf_counter() - started, n


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--budget", type=int, default=600, help="seconds for booting real servers")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    conn = admin()
    project = conn.identity.create_project(name=f"gc-{RUN}-bench", domain_id="default")
    admin_user = conn.identity.find_user("admin")
    conn.identity.assign_project_role_to_user(project, admin_user, conn.identity.find_role("member"))
    conn.compute.update_quota_set(project.id, instances=-1, cores=-1, ram=-1)
    url, drop = pg_schema()
    os.environ["GOVCLOUD_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="govcloud-bench-")
    ids = []
    try:
        ids = boot(conn, project, args.servers, args.budget)
        report(url, ids, project, args)
    finally:
        if not args.keep:
            for server_id in ids:
                conn.compute.delete_server(server_id, ignore_missing=True)
            for server_id in ids:
                conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=600) \
                    if conn.compute.find_server(server_id, all_projects=True) else None
            conn.identity.delete_project(project)
        drop()
        conn.close()


def report(url, ids, project, args):
    from sqlalchemy.orm import Session

    from monitoring.inventory_sync import sync
    from portal import create_app, migrate
    from portal.database import utcnow
    from portal.models.accounts import Department, User
    from portal.models.inventory import InventoryItem
    from portal.models.requests import CloudResource, ResourceRequest
    from provisioner.cloud import Cloud

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "TOTP_REQUIRED_ROLES": [], "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8,
                      "PASSWORD_HASH_PARALLELISM": 1})
    migrate.upgrade(url)
    engine = app.extensions["govcloud_db"][0]
    password = "Bench-password-2024"
    with Session(engine, expire_on_commit=False) as s:
        hashed = app.extensions["govcloud_passwords"].hash(password)
        departments = []
        for n in range(args.departments):
            d = Department(name=f"基准局{n:03d}", code=f"D{n:03d}", level="city")
            s.add(d)
            departments.append(d)
        s.flush()
        systems = [ResourceRequest(number=f"ZWY-B-{n:05d}", department_id=d.id, system_name=f"基准系统{n:03d}",
                                   state="provisioned", spec={}, approved_spec={}) for n, d in enumerate(departments)]
        s.add_all(systems)
        s.flush()
        for n, server_id in enumerate(ids):  # the real servers belong to the departments in turn
            system = systems[n % len(systems)]
            s.add(CloudResource(department_id=system.department_id, system_id=system.id, kind="server",
                                key=f"server:{n}", name=f"s{n}", openstack_id=server_id))
        s.add_all([User(username="vendor", role="vendor", password_hash=hashed),
                   User(username="dept", role="department", department_id=departments[0].id, password_hash=hashed)])
        s.commit()
        cloud = Cloud(CLOUDS, "devcloud")
        full = sync(s, app.config, cloud, full=True)
        steady = sync(s, app.config, cloud, full=False)
        cloud.close()
        real = s.query(InventoryItem).filter(InventoryItem.kind == "server",
                                             InventoryItem.openstack_id.in_(ids or [""])).count()
        pad = max(0, args.servers - s.query(InventoryItem).filter(InventoryItem.kind == "server").count())
        s.execute(InventoryItem.__table__.insert(), [{
            "kind": "server", "openstack_id": f"pad-{n:06d}", "project_id": project.id,
            "department_id": departments[n % len(departments)].id, "system_id": systems[n % len(systems)].id,
            "name": f"pad-{n:05d}", "status": "SHUTOFF" if n % 10 == 0 else "ACTIVE", "flavor": "m1.tiny",
            "image": "cirros", "host": "devcloud-compute1", "search_text": f" pad-{n:05d} 10.{n // 65536}.{n // 256 % 256}.{n % 256} ",
            "attributes": {"vcpus": 1, "ram_mib": 512, "fixed_ips": [{"network": "n", "addr": f"10.0.{n // 256 % 256}.{n % 256}"}],
                           "floating_ips": []}, "synced_at": utcnow()}
            for n in range(pad)])
        s.commit()
        total = s.query(InventoryItem).filter(InventoryItem.kind == "server").count()
    raw_seconds, raw_count = raw_listing(admin())
    dept0 = departments[0].id
    pages = {"vendor: all servers": ("vendor", "/inventory/?kind=server"),
             "vendor: by department": ("vendor", f"/inventory/?kind=server&department_id={dept0}"),
             "vendor: by status": ("vendor", "/inventory/?kind=server&status=SHUTOFF"),
             "department: its servers": ("dept", "/inventory/?kind=server"),
             "search (name)": ("vendor", "/inventory/?kind=server&q=pad-0042"),
             "search (IP)": ("vendor", "/inventory/?kind=server&q=10.0.1.7")}
    clients = {}
    for who in ("vendor", "dept"):
        client = app.test_client()
        response = client.post("/login", data={"username": who, "password": password})
        assert response.status_code == 302, response.status_code
        clients[who] = client
    print(f"\ninventory: {real} real servers from the dev cloud (of {len(ids)} booted) + {total - real} rows "
          f"shaped alike = {total} servers in {args.departments} departments")
    print(f"raw openstacksdk listing, all projects, pages of 80: {raw_count} servers in {raw_seconds:.2f} s")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}  p95 / raw listing")
    for name, (who, path) in pages.items():
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response = clients[who].get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            body = response.get_data(as_text=True)
        rows = body.count('href="/inventory/items/')
        print(f"{name:28} {statistics.median(times):8.1f} {pct(times, 0.95):8.1f} {rows:5d}  "
              f"1/{raw_seconds * 1000 / pct(times, 0.95):.0f}")
    print(f"\nsync, full:   {full.duration_seconds:6.2f} s, {full.api_calls:3d} API calls, {full.changed} objects")
    print(f"sync, steady: {steady.duration_seconds:6.2f} s, {steady.api_calls:3d} API calls, {steady.changed} objects "
          f"(time 1/{full.duration_seconds / max(steady.duration_seconds, 1e-6):.1f}, "
          f"calls 1/{full.api_calls / max(steady.api_calls, 1):.1f})")


if __name__ == "__main__":
    main()
