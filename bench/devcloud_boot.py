"""Dev cloud figures: install and start times, idle memory, time to ACTIVE for 1 and 20 servers.

    python bench/devcloud_boot.py            # warm start (down + up), RSS, 1 and 20 servers
    python bench/devcloud_boot.py --cold     # also a cold install: removes the cached venv
                                             # and .devcloud/ first (several minutes)

Prints one line per figure. The cloud is left running.
"""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openstack

REPO = Path(__file__).resolve().parents[1]
DEVCLOUD = REPO / "devcloud"
HOME = Path(os.environ.get("DEVCLOUD_HOME", REPO / ".devcloud"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "govcloud"


def timed(argv):
    t0 = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def rss_of_dev_cloud():
    """Total resident memory of the dev cloud's process groups, MariaDB and RabbitMQ (MiB)."""
    groups = set()
    for pidfile in (HOME / "run").glob("*.pid"):
        groups.add(int(pidfile.read_text()))
    total, extra = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            pgid, rss_pages = int(fields[2]), int(fields[21])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        rss = rss_pages * os.sysconf("SC_PAGE_SIZE")
        if pgid in groups:
            total += rss
        elif comm in ("mariadbd", "mysqld", "beam.smp", "epmd"):
            extra += rss
    return total / 2**20, extra / 2**20


def connect():
    config = openstack.config.OpenStackConfig(config_files=[str(HOME / "clouds.yaml")],
                                              load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud="devcloud"))


def boot(conn, names, net, flavor, image):
    """Create servers concurrently and wait until all are ACTIVE; return the wall time."""
    t0 = time.monotonic()

    def one(name):
        server = conn.compute.create_server(name=name, flavor_id=flavor.id, image_id=image.id,
                                            networks=[{"uuid": net.id}])
        return conn.compute.wait_for_server(server, status="ACTIVE", wait=600, interval=1)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        servers = list(pool.map(one, names))
    return time.monotonic() - t0, servers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()

    if args.cold:
        subprocess.run([DEVCLOUD / "down"], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(HOME, ignore_errors=True)
        for venv in CACHE.glob("devcloud-venv-*"):
            shutil.rmtree(venv)
        print(f"cold install + first start: {timed([DEVCLOUD / 'up']):.1f} s")
    subprocess.run([DEVCLOUD / "down"], check=True, stdout=subprocess.DEVNULL)
    print(f"warm start (all APIs and services up): {timed([DEVCLOUD / 'up']):.1f} s")
    time.sleep(20)  # let the services settle before reading memory
    services, infra = rss_of_dev_cloud()
    print(f"idle RSS: OpenStack services {services:.0f} MiB + MariaDB/RabbitMQ {infra:.0f} MiB"
          f" = {services + infra:.0f} MiB")

    conn = connect()
    tag = "bench-" + uuid.uuid4().hex[:6]
    net = conn.network.create_network(name=tag)
    created = []
    try:
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.99.0.0/24",
                                   name=tag)
        flavor = conn.compute.find_flavor("m1.tiny")
        image = conn.image.find_image("cirros-devcloud")
        seconds, servers = boot(conn, [f"{tag}-single"], net, flavor, image)
        created += servers
        print(f"1 server to ACTIVE: {seconds:.1f} s")
        seconds, servers = boot(conn, [f"{tag}-{i:02d}" for i in range(20)], net, flavor, image)
        created += servers
        print(f"20 servers in parallel to ACTIVE: {seconds:.1f} s")
    finally:
        t0 = time.monotonic()
        for server in created:
            conn.compute.delete_server(server)
        for server in created:
            conn.compute.wait_for_delete(server, wait=300)
        for port in conn.network.ports(network_id=net.id):
            if port.device_owner.startswith("compute:"):
                conn.network.delete_port(port)
        conn.network.delete_network(net)
        print(f"deleting {len(created)} servers: {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
