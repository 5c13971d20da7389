"""A real, minimal OpenStack on 127.0.0.1 for govcloud's development, demos and tests.

Keystone, Placement, Nova (fake hypervisor), Neutron (ML2, agentless), Cinder (file-backed
volumes, posix backups) and Glance (file store) from pinned PyPI wheels, backed by the
machine's MariaDB and RabbitMQ. Everything lives under $DEVCLOUD_HOME (default .devcloud/).

Usage: devcloud.py up | down | status | clean
Runs with the system python3 and the standard library only; cloud-side set-up runs
bootstrap_cloud.py inside the dev cloud's virtualenv.
"""
import argparse
import concurrent.futures
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SRC = Path(__file__).resolve().parent
HOME = Path(os.environ.get("DEVCLOUD_HOME", SRC.parent / ".devcloud")).resolve()
VENV = HOME / "venv"
ETC, DATA, LOGS, RUN, STATE = (HOME / d for d in ("etc", "data", "logs", "run", "state"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "govcloud"

HOST = "127.0.0.1"
DB_USER, DB_PASS = "devcloud", "devcloud"
ADMIN_PASSWORD = "devcloud-admin"
SERVICE_PASSWORD = "devcloud-service"
RABBIT_VHOST = "devcloud"
TRANSPORT_URL = f"rabbit://guest:guest@{HOST}:5672/{RABBIT_VHOST}"
AUTH_URL = f"http://{HOST}:5000/v3"
DATABASES = ["keystone", "placement", "nova_api", "nova", "nova_cell0", "glance",
             "cinder", "neutron"]
API_WAIT_SECONDS = 180


def db_url(name):
    return f"mysql+pymysql://{DB_USER}:{DB_PASS}@{HOST}/devcloud_{name}?charset=utf8"


def log(msg):
    print(f"devcloud: {msg}", flush=True)


class DevcloudError(Exception):
    pass


# --- services -------------------------------------------------------------------------------

class Service:
    """One long-running process of the dev cloud."""

    def __init__(self, name, argv, env=None, port=None, path="/"):
        self.name, self.argv, self.env, self.port, self.path = name, argv, env or {}, port, path

    @property
    def pidfile(self):
        return RUN / f"{self.name}.pid"

    def pid(self):
        try:
            pid = int(self.pidfile.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self):
        if self.port is None:
            return self.pid() is not None
        try:
            urllib.request.urlopen(f"http://{HOST}:{self.port}{self.path}", timeout=5)
            return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer (401, 300...) means the API is serving
        except (OSError, urllib.error.URLError):
            return False

    def start(self):
        if self.pid():
            return False
        if self.port and port_open(self.port):
            raise DevcloudError(
                f"port {self.port} for {self.name} is taken by a process devcloud did not "
                f"start (another checkout's dev cloud?): stop it first")
        env = dict(os.environ, **service_env(), **self.env)
        logfile = open(LOGS / f"{self.name}.log", "ab")
        proc = subprocess.Popen(self.argv, stdout=logfile, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=HOME,
                                start_new_session=True)
        self.pidfile.write_text(str(proc.pid))
        return True

    def stop(self):
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.3)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        while self.port and port_open(self.port) and time.monotonic() < deadline + 10:
            time.sleep(0.3)  # gunicorn may hold the socket a moment after its master died
        self.pidfile.unlink(missing_ok=True)
        return True


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def service_env():
    return {
        "PATH": f"{HOME / 'shims'}:{VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "OS_KEYSTONE_CONFIG_FILES": str(ETC / "keystone.conf"),
        "OS_PLACEMENT_CONFIG_DIR": str(ETC / "placement"),
        "OS_NOVA_CONFIG_DIR": str(ETC / "nova"),
        # nova-api reads its paste pipeline from the first file
        "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf",
        "OS_GLANCE_CONFIG_DIR": str(ETC / "glance"),
        "OS_NEUTRON_CONFIG_DIR": str(ETC / "neutron"),
        "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini",
        "PYTHONUNBUFFERED": "1",
    }


def api(name, port, app, path="/", argv=""):
    gunicorn = [str(VENV / "bin" / "gunicorn"), "-c", str(ETC / "gunicorn.conf.py"),
                "--name", name, app]
    return Service(name, gunicorn, port=port, path=path,
                   env={"DEVCLOUD_BIND": f"{HOST}:{port}", "DEVCLOUD_PROG": name,
                        "DEVCLOUD_ARGV": argv})


def daemon(name, *argv):
    return Service(name, [*argv])


def services():
    py, bin_ = str(VENV / "bin" / "python"), VENV / "bin"
    nova_conf = f"--config-file {ETC / 'nova' / 'nova.conf'}"
    cinder_conf = f"--config-file {ETC / 'cinder' / 'cinder.conf'}"
    neutron_conf = (f"--config-file {ETC / 'neutron' / 'neutron.conf'} "
                    f"--config-file {ETC / 'neutron' / 'ml2_conf.ini'}")
    return [
        api("keystone", 5000, "keystone.wsgi.api:application", "/v3"),
        api("placement", 8778, "placement.wsgi.api:application"),
        api("glance-api", 9292, "glance.wsgi.api:application"),
        api("neutron-api", 9696, "neutron.wsgi.api:application", argv=neutron_conf),
        api("nova-api", 8774, "nova.wsgi.osapi_compute:application", argv=nova_conf),
        api("cinder-api", 8776, "cinder.wsgi.api:application", argv=cinder_conf),
        daemon("nova-conductor", str(bin_ / "nova-conductor"), *nova_conf.split()),
        daemon("nova-scheduler", str(bin_ / "nova-scheduler"), *nova_conf.split()),
        daemon("nova-compute", py, "-m", "devcloud_plugins.nova_compute", *nova_conf.split()),
        daemon("cinder-scheduler", str(bin_ / "cinder-scheduler"), *cinder_conf.split()),
        daemon("cinder-volume", str(bin_ / "cinder-volume"), *cinder_conf.split()),
        daemon("cinder-backup", str(bin_ / "cinder-backup"), *cinder_conf.split()),
    ]


# --- install --------------------------------------------------------------------------------

def _digest(*paths):
    h = hashlib.sha256(sys.version.encode())
    for p in paths:
        for f in sorted(Path(p).rglob("*")) if Path(p).is_dir() else [Path(p)]:
            if f.is_file() and "__pycache__" not in f.parts and ".egg-info" not in str(f):
                h.update(f.name.encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


def install():
    """Create the services' virtualenv once per pinned version set (cached outside the checkout)."""
    key = _digest(SRC / "requirements.txt")
    target = CACHE / f"devcloud-venv-{key}"
    if not (target / ".complete").exists():
        log(f"installing OpenStack services into {target} (first run only, ~2 min)")
        t0 = time.monotonic()
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(target)])
        pip = [str(target / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        run(pip + ["--upgrade", "pip", "setuptools", "wheel"])
        run(pip + ["-r", str(SRC / "requirements.txt")])
        (target / ".complete").write_text(time.strftime("%F %T"))
        log(f"installed in {time.monotonic() - t0:.0f} s")
    if VENV.is_symlink() and VENV.resolve() != target.resolve():
        VENV.unlink()
    if not VENV.exists():
        VENV.symlink_to(target)
    plugins_key = _digest(SRC / "plugins")
    stamp = target / f".plugins-{plugins_key}"
    if not stamp.exists():
        build = HOME / "build" / "plugins"
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(SRC / "plugins", build)
        run([str(target / "bin" / "pip"), "install", "-q", "--no-deps",
             "--disable-pip-version-check", "--force-reinstall", str(build)])
        for old in target.glob(".plugins-*"):
            old.unlink()
        stamp.touch()
    # os-brick starts privsep through sudo; the dev cloud runs as root and has no sudo.
    shims = HOME / "shims"
    shims.mkdir(exist_ok=True)
    sudo = shims / "sudo"
    if shutil.which("sudo", path="/usr/bin:/bin:/usr/sbin:/sbin") is None:
        sudo.write_text(
            '#!/bin/sh\n# dev cloud only: every service already runs as root\n'
            'while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done\n'
            '# "<svc>-rootwrap <conf> cmd...": run cmd itself (no rootwrap filters here)\n'
            'case "$1" in *-rootwrap) shift 2 ;; esac\n'
            'exec "$@"\n')
        sudo.chmod(0o755)
    else:
        sudo.unlink(missing_ok=True)


def run(argv, env=None, check=True, quiet=False, **kw):
    full_env = dict(os.environ, **service_env(), **(env or {}))
    res = subprocess.run(argv, env=full_env, capture_output=True, text=True, cwd=HOME, **kw)
    if check and res.returncode != 0:
        raise DevcloudError(f"{' '.join(map(str, argv))} failed ({res.returncode}):\n"
                            f"{res.stdout[-2000:]}{res.stderr[-4000:]}")
    return res


# --- configuration --------------------------------------------------------------------------

def ini(sections):
    out = []
    for section, options in sections.items():
        out.append(f"[{section}]")
        out += [f"{k} = {v}" for k, v in options.items()]
        out.append("")
    return "\n".join(out)


def service_auth(user, **extra):
    return {"auth_type": "password", "auth_url": AUTH_URL, "username": user,
            "password": SERVICE_PASSWORD, "user_domain_name": "Default",
            "project_name": "service", "project_domain_name": "Default",
            "region_name": "RegionOne", **extra}


def authtoken(user):
    return {"www_authenticate_uri": AUTH_URL, "auth_url": AUTH_URL,
            "memcached_servers": "", "service_token_roles_required": "true",
            **{k: v for k, v in service_auth(user).items() if k != "region_name"}}


def gen_config():
    """Write every service's configuration under $DEVCLOUD_HOME/etc."""
    for d in (ETC / "placement", ETC / "nova", ETC / "glance", ETC / "cinder",
              ETC / "neutron", DATA / "keystone", DATA / "nova", DATA / "glance" / "images",
              DATA / "glance" / "staging", DATA / "glance" / "tasks", DATA / "cinder" / "volumes",
              DATA / "cinder" / "backups", DATA / "locks"):
        d.mkdir(parents=True, exist_ok=True)
    venv_etc = VENV / "etc"
    shutil.copy(SRC / "etc" / "gunicorn.conf.py", ETC / "gunicorn.conf.py")
    common = {"debug": "false", "use_stderr": "true", "transport_url": TRANSPORT_URL}
    files = {
        ETC / "keystone.conf": {
            "DEFAULT": {"debug": "false"},
            "database": {"connection": db_url("keystone")},
            "token": {"provider": "fernet", "expiration": 86400},
            "fernet_tokens": {"key_repository": DATA / "keystone" / "fernet-keys"},
            "fernet_receipts": {"key_repository": DATA / "keystone" / "fernet-keys"},
            "credential": {"key_repository": DATA / "keystone" / "credential-keys"},
        },
        ETC / "placement" / "placement.conf": {
            "DEFAULT": {"debug": "false"},
            "placement_database": {"connection": db_url("placement")},
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": authtoken("placement"),
        },
        ETC / "nova" / "nova.conf": {
            "DEFAULT": {**common, "host": "devcloud-compute1", "my_ip": HOST,
                        "compute_driver": "fake.FakeDriverWithoutFakeNodes",
                        "state_path": DATA / "nova", "allow_resize_to_same_host": "true",
                        "vif_plugging_is_fatal": "false", "vif_plugging_timeout": 0,
                        "osapi_compute_workers": 1, "cpu_allocation_ratio": 16.0,
                        "ram_allocation_ratio": 1.5, "disk_allocation_ratio": 1.0,
                        "instances_path": DATA / "nova" / "instances"},
            "api": {"auth_strategy": "keystone"},
            "conductor": {"workers": 1},
            "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": 30},
            "api_database": {"connection": db_url("nova_api")},
            "database": {"connection": db_url("nova")},
            "vnc": {"enabled": "false"}, "spice": {"enabled": "false"},
            "keystone_authtoken": authtoken("nova"),
            "placement": service_auth("placement"),
            "neutron": service_auth("neutron"),
            "cinder": {**service_auth("cinder"), "os_region_name": "RegionOne"},
            "glance": {"region_name": "RegionOne"},
            "service_user": {**service_auth("nova"), "send_service_user_token": "true"},
            "oslo_concurrency": {"lock_path": DATA / "locks"},
            "oslo_messaging_notifications": {"driver": "noop"},
        },
        ETC / "glance" / "glance-api.conf": {
            "DEFAULT": {"debug": "false", "enabled_backends": "fs:file", "workers": 1},
            "database": {"connection": db_url("glance")},
            "glance_store": {"default_backend": "fs"},
            "fs": {"filesystem_store_datadir": DATA / "glance" / "images"},
            "os_glance_staging_store": {"filesystem_store_datadir": DATA / "glance" / "staging"},
            "os_glance_tasks_store": {"filesystem_store_datadir": DATA / "glance" / "tasks"},
            "keystone_authtoken": authtoken("glance"),
            "paste_deploy": {"flavor": "keystone"},
            "oslo_concurrency": {"lock_path": DATA / "locks"},
        },
        ETC / "cinder" / "cinder.conf": {
            "DEFAULT": {**common, "host": "devcloud-volume1", "enabled_backends": "devcloud",
                        "default_volume_type": "__DEFAULT__",
                        "auth_strategy": "keystone", "osapi_volume_workers": 1,
                        "api_paste_config": ETC / "cinder" / "api-paste.ini",
                        "resource_query_filters_file": ETC / "cinder" / "resource_filters.json",
                        "state_path": DATA / "cinder", "my_ip": HOST,
                        "glance_api_servers": f"http://{HOST}:9292",
                        "backup_driver": "cinder.backup.drivers.posix.PosixBackupDriver",
                        "backup_posix_path": DATA / "cinder" / "backups",
                        "backup_workers": 1},
            "devcloud": {"volume_driver": "devcloud_plugins.cinder_filefake.FileFakeVolumeDriver",
                         "volume_backend_name": "devcloud",
                         "devcloud_volume_dir": DATA / "cinder" / "volumes"},
            "database": {"connection": db_url("cinder")},
            "keystone_authtoken": authtoken("cinder"),
            "nova": service_auth("nova"),
            "service_user": {**service_auth("cinder"), "send_service_user_token": "true"},
            "oslo_concurrency": {"lock_path": DATA / "locks"},
            "oslo_messaging_notifications": {"driver": "noop"},
        },
        ETC / "neutron" / "neutron.conf": {
            "DEFAULT": {**common, "core_plugin": "ml2", "service_plugins": "router",
                        "api_workers": 1, "rpc_workers": 0, "rpc_state_report_workers": 0,
                        "auth_strategy": "keystone", "state_path": DATA / "neutron",
                        "api_paste_config": venv_etc / "neutron" / "api-paste.ini",
                        "notify_nova_on_port_status_changes": "true",
                        "notify_nova_on_port_data_changes": "true"},
            "database": {"connection": db_url("neutron")},
            "keystone_authtoken": authtoken("neutron"),
            "nova": service_auth("nova"),
            "oslo_concurrency": {"lock_path": DATA / "locks"},
        },
        ETC / "neutron" / "ml2_conf.ini": {
            "ml2": {"type_drivers": "flat,vlan,vxlan", "tenant_network_types": "vxlan",
                    "mechanism_drivers": "devcloud_noop", "extension_drivers": "port_security"},
            "ml2_type_flat": {"flat_networks": "public"},
            "ml2_type_vxlan": {"vni_ranges": "1:10000"},
        },
    }
    for path, sections in files.items():
        path.write_text(ini(sections))
    shutil.copy(SRC / "etc" / "cinder-api-paste.ini", ETC / "cinder" / "api-paste.ini")
    shutil.copy(SRC / "etc" / "cinder-resource-filters.json",
                ETC / "cinder" / "resource_filters.json")
    shutil.copy(venv_etc / "glance" / "glance-api-paste.ini", ETC / "glance")
    shutil.copy(venv_etc / "nova" / "api-paste.ini", ETC / "nova")


# --- infrastructure and databases -----------------------------------------------------------

def ensure_infra():
    """MariaDB and RabbitMQ answer, the dev cloud's DB user and vhost exist."""
    script = SRC.parent / "scripts" / "services.sh"
    subprocess.run([str(script)], check=True)
    sql = (f"CREATE USER IF NOT EXISTS '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASS}';"
           f"CREATE USER IF NOT EXISTS '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASS}';"
           f"GRANT ALL ON `devcloud\\_%`.* TO '{DB_USER}'@'localhost';"
           f"GRANT ALL ON `devcloud\\_%`.* TO '{DB_USER}'@'127.0.0.1';")
    run(["mariadb", "-uroot", "-e", sql])
    vhosts = run(["rabbitmqctl", "-q", "list_vhosts"]).stdout.split()
    if RABBIT_VHOST not in vhosts:
        run(["rabbitmqctl", "-q", "add_vhost", RABBIT_VHOST])
        run(["rabbitmqctl", "-q", "set_permissions", "-p", RABBIT_VHOST, "guest",
             ".*", ".*", ".*"])


def reset_state():
    """Start from nothing: drop the dev cloud's databases, queues and data."""
    log("new dev cloud: creating databases")
    run(["mariadb", "-uroot", "-e", "".join(
        f"DROP DATABASE IF EXISTS devcloud_{d}; CREATE DATABASE devcloud_{d} "
        f"CHARACTER SET utf8mb4;" for d in DATABASES)])
    run(["rabbitmqctl", "-q", "delete_vhost", RABBIT_VHOST], check=False)
    run(["rabbitmqctl", "-q", "add_vhost", RABBIT_VHOST])
    run(["rabbitmqctl", "-q", "set_permissions", "-p", RABBIT_VHOST, "guest", ".*", ".*", ".*"])
    shutil.rmtree(DATA, ignore_errors=True)
    claim_databases()


def claim_databases():
    """Record in MariaDB which checkout's state the devcloud_* databases belong to."""
    token = os.urandom(16).hex()
    run(["mariadb", "-uroot", "-e", "DROP DATABASE IF EXISTS devcloud_meta; CREATE DATABASE devcloud_meta; "
         f"CREATE TABLE devcloud_meta.owner (token VARCHAR(64)); INSERT INTO devcloud_meta.owner VALUES ('{token}');"])
    (STATE / "owner").write_text(token)


def owns_databases():
    """True when the devcloud_* databases were last reset by this checkout.

    The databases are the machine's, the node state (e.g. nova's compute node id) is the
    checkout's: after another checkout reset them, this one must start afresh too.
    """
    res = run(["mariadb", "-uroot", "-N", "-B", "-e", "SELECT token FROM devcloud_meta.owner"], check=False)
    owner = STATE / "owner"
    return res.returncode == 0 and owner.exists() and res.stdout.strip() == owner.read_text().strip()


def db_init():
    b = VENV / "bin"
    nova = ["--config-file", str(ETC / "nova" / "nova.conf")]
    neutron = ["--config-file", str(ETC / "neutron" / "neutron.conf"),
               "--config-file", str(ETC / "neutron" / "ml2_conf.ini")]
    cinder = ["--config-file", str(ETC / "cinder" / "cinder.conf")]

    def keystone():
        km = [str(b / "keystone-manage"), "--config-file", str(ETC / "keystone.conf")]
        run(km + ["db_sync"])
        run(km + ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"])
        run(km + ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"])
        run(km + ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                  "--bootstrap-admin-url", AUTH_URL, "--bootstrap-internal-url", AUTH_URL,
                  "--bootstrap-public-url", AUTH_URL, "--bootstrap-region-id", "RegionOne"])

    def nova_dbs():
        nm = [str(b / "nova-manage")] + nova
        run(nm + ["api_db", "sync"])
        run(nm + ["cell_v2", "map_cell0", "--database_connection", db_url("nova_cell0")])
        run(nm + ["cell_v2", "create_cell", "--name", "cell1", "--verbose"])
        run(nm + ["db", "sync"])

    steps = {
        "keystone": keystone,
        "nova": nova_dbs,
        "placement": lambda: run([str(b / "placement-manage"), "--config-file",
                                  str(ETC / "placement" / "placement.conf"), "db", "sync"]),
        "glance": lambda: run([str(b / "glance-manage"), "--config-file",
                               str(ETC / "glance" / "glance-api.conf"), "db_sync"]),
        "cinder": lambda: run([str(b / "cinder-manage")] + cinder + ["db", "sync"]),
        "neutron": lambda: run([str(b / "neutron-db-manage")] + neutron + ["upgrade", "heads"]),
    }
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {pool.submit(fn): name for name, fn in steps.items()}
        for fut in concurrent.futures.as_completed(futures):
            fut.result()
            log(f"database ready: {futures[fut]}")


# --- commands -------------------------------------------------------------------------------

def wait_for(svcs, seconds=API_WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    pending = list(svcs)
    while pending and time.monotonic() < deadline:
        for svc in list(pending):
            if svc.port is not None and svc.pid() is None:
                raise DevcloudError(f"{svc.name} exited; see {LOGS / (svc.name + '.log')}")
            if svc.answers():
                pending.remove(svc)
        if pending:
            time.sleep(0.5)
    if pending:
        names = ", ".join(s.name for s in pending)
        raise DevcloudError(f"no answer within {seconds} s from: {names} (logs in {LOGS})")


def bootstrap(phase):
    res = run([str(VENV / "bin" / "python"), str(SRC / "bootstrap_cloud.py"), phase],
              env={"DEVCLOUD_HOME": str(HOME), "DEVCLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD,
                   "DEVCLOUD_SERVICE_PASSWORD": SERVICE_PASSWORD,
                   "DEVCLOUD_AUTH_URL": AUTH_URL}, check=False)
    sys.stdout.write(res.stdout)
    if res.returncode != 0:
        raise DevcloudError(f"bootstrap {phase} failed:\n{res.stderr[-4000:]}")


def up(args):
    t0 = time.monotonic()
    for d in (HOME, LOGS, RUN, STATE):
        d.mkdir(parents=True, exist_ok=True)
    install()
    ensure_infra()
    fresh = not (STATE / "initialized").exists() or not owns_databases()
    if fresh:
        for svc in services():
            svc.stop()
        reset_state()
    gen_config()
    if fresh:
        db_init()
    svcs = {s.name: s for s in services()}
    keystone = svcs.pop("keystone")
    if keystone.start():
        log("started keystone")
    wait_for([keystone])
    if fresh or not (STATE / "identity").exists():
        bootstrap("identity")
        (STATE / "identity").touch()
    started = [s.name for s in svcs.values() if s.start()]
    if started:
        log("started " + ", ".join(started))
    wait_for([s for s in svcs.values() if s.port])
    bootstrap("resources")
    (STATE / "initialized").touch()
    log(f"up in {time.monotonic() - t0:.1f} s")
    print(f"\nThe dev cloud answers on {AUTH_URL} (cloud 'devcloud', admin).\n"
          f"  export OS_CLIENT_CONFIG_FILE={HOME / 'clouds.yaml'} OS_CLOUD=devcloud\n"
          f"  {VENV / 'bin' / 'openstack'} server list --all-projects\n")


def down(args):
    stopped = [s.name for s in reversed(services()) if s.stop()]
    log("stopped " + (", ".join(stopped) if stopped else "nothing (nothing was running)"))


def status(args):
    ok = True
    for svc in services():
        pid = svc.pid()
        state = "up" if pid and svc.answers() else ("starting" if pid else "down")
        ok &= state == "up"
        where = f"{HOST}:{svc.port}" if svc.port else ""
        print(f"{svc.name:18} {state:9} {('pid ' + str(pid)) if pid else '':12} {where}")
    return 0 if ok else 3


def clean(args):
    down(args)
    shutil.rmtree(HOME, ignore_errors=True)
    log(f"removed {HOME} (the cached virtualenv under {CACHE} is kept)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="devcloud", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name, fn in (("up", up), ("down", down), ("status", status), ("clean", clean)):
        sub.add_parser(name).set_defaults(fn=fn)
    args = parser.parse_args(argv)
    try:
        return args.fn(args) or 0
    except DevcloudError as exc:
        print(f"devcloud: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
