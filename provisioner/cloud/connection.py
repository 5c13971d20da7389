"""Connections to the cloud: clouds.yaml and the cloud's name, the admin and project-scoped
connections, error translation, retries of safe calls, the catalog and Placement capacity."""
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import openstack
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from .. import errors

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
DEFAULT_CLOUDS_YAML = str(REPO / ".devcloud" / "clouds.yaml")
DEFAULT_CLOUD = "devcloud"
WAIT_SECONDS = 300
POLL_SECONDS = 1.0
CATALOG_TTL = 300
SCOPED_LOGIN_TRIES = 4


def settings_from(config=None):
    """Return (clouds_yaml, cloud) from a config mapping, the environment, or the dev cloud."""
    config = config or {}
    path = config.get("CLOUDS_YAML") or os.environ.get("GOVCLOUD_CLOUDS_YAML") or DEFAULT_CLOUDS_YAML
    name = config.get("CLOUD") or os.environ.get("GOVCLOUD_CLOUD") or DEFAULT_CLOUD
    return path, name


@contextmanager
def translate_errors(what):
    """Turn openstacksdk/keystoneauth exceptions into transient or permanent provisioning errors."""
    try:
        yield
    except errors.ProvisioningError:
        raise
    except os_exceptions.ResourceTimeout as exc:
        raise errors.TransientCloudError(errors.TIMEOUT, f"{what}: {exc}") from exc
    except os_exceptions.HttpException as exc:
        status = exc.status_code or 0
        text = f"{what}: HTTP {status} {exc.details or exc}"
        # the cloud's own words decide, not `what` or the URL ("set quotas", os-quota-sets)
        lowered = str(exc.details or "").lower()
        if ("quota" in lowered and status < 500) or status == 413:
            raise errors.PermanentCloudError(errors.QUOTA_EXCEEDED, text) from exc
        if status >= 500 or status in (409, 429, 0):
            raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, text) from exc
        raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, text) from exc
    except (ks_exceptions.ConnectFailure, ks_exceptions.ConnectTimeout, ks_exceptions.RetriableConnectionFailure,
            ks_exceptions.DiscoveryFailure, ConnectionError, TimeoutError) as exc:
        raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, f"{what}: {exc!r}") from exc
    except ks_exceptions.HttpError as exc:  # keystoneauth's own calls: the token, version discovery
        status = exc.http_status or 0
        text = f"{what}: HTTP {status} {exc}"
        if status >= 500 or status in (409, 429, 0):
            raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, text) from exc
        raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, text) from exc
    except os_exceptions.SDKException as exc:
        raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, f"{what}: {exc!r}") from exc


# ---------------------------------------------------------------------------------------------
# retries of safe calls (issue 5): reads and deletes are retried inside the call; creates (POST)
# and actions (PUT) never blindly: the provisioner looks by name and resumes its steps instead
# ---------------------------------------------------------------------------------------------
HTTP_RETRIES = 5
API_TIMEOUT = 300  # seconds without an answer, unless clouds.yaml sets api_timeout
HTTP_RETRY_STATUSES = (500, 502, 503, 504)


def http_retry():
    """Return the urllib3 retry policy of the connections: GET/HEAD/DELETE/OPTIONS, bounded, with
    exponential backoff and jitter; a request that never reached the cloud (connect error) too."""
    from urllib3.util.retry import Retry
    return Retry(total=HTTP_RETRIES, connect=HTTP_RETRIES, read=HTTP_RETRIES, status=HTTP_RETRIES, other=0,
                 allowed_methods=frozenset({"GET", "HEAD", "DELETE", "OPTIONS"}),
                 status_forcelist=HTTP_RETRY_STATUSES, backoff_factor=0.2, backoff_max=5.0, backoff_jitter=0.3,
                 raise_on_status=False, respect_retry_after_header=True)


def retry_transient(fn, *args, attempts=4, base=0.5):
    """Call fn (an idempotent Cloud operation, such as a PUT of quotas) again on a transient error,
    a bounded number of times with exponential backoff and jitter."""
    import random
    for attempt in range(attempts):
        try:
            return fn(*args)
        except errors.TransientCloudError:
            if attempt + 1 >= attempts:
                raise
            time.sleep(base * 2 ** attempt * random.uniform(0.5, 1.5))
    return None


def retry_idempotent_requests(conn):
    """Mount the retrying HTTP adapter (keystoneauth's keep-alive one) on an openstacksdk connection."""
    from keystoneauth1.session import TCPKeepAliveAdapter
    adapter = TCPKeepAliveAdapter(max_retries=http_retry())
    for scheme in ("http://", "https://"):
        conn.session.session.mount(scheme, adapter)
    return conn


def _server_view(server, flavors_by_id=None):
    flavor = server.flavor or {}
    addresses = []
    for network, entries in (server.addresses or {}).items():
        for entry in entries:
            addresses.append({"network": network, "addr": entry.get("addr"),
                              "type": entry.get("OS-EXT-IPS:type", "fixed")})
    return {"id": server.id, "name": server.name, "status": server.status,
            "flavor": flavor.get("original_name") or flavor.get("name") or flavor.get("id"),
            "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"), "addresses": addresses,
            "fault": (server.fault or {}).get("message", "") if server.fault else ""}


def _volume_view(volume):
    return {"id": volume.id, "name": volume.name, "size": volume.size, "status": volume.status,
            "attached_to": [a.get("server_id") for a in (volume.attachments or [])]}


class Connections:
    """A handle on one OpenStack cloud: admin connection, project connections, catalog cache."""

    def __init__(self, clouds_yaml=None, cloud=None, wait_seconds=WAIT_SECONDS):
        default_path, default_name = settings_from()
        self.clouds_yaml = clouds_yaml or default_path
        self.cloud_name = cloud or default_name
        self.wait_seconds = wait_seconds
        self._admin = None
        self._projects = {}
        self._lock = threading.Lock()
        self._catalog = None
        self._catalog_at = 0.0
        self._external = {}  # external network name -> id
        self._member_role = None

    @classmethod
    def from_config(cls, config=None):
        path, name = settings_from(config)
        return cls(path, name)

    # -- connections
    @property
    def admin(self):
        with self._lock:
            if self._admin is None:
                with translate_errors("connect"):
                    config = openstack.config.OpenStackConfig(config_files=[self.clouds_yaml],
                                                              load_envvars=False)
                    region = config.get_one(cloud=self.cloud_name)
                    if region.config.get("api_timeout") is None:  # a hung call ends (transient), never blocks a job
                        region.config["api_timeout"] = API_TIMEOUT
                    self._admin = openstack.connection.Connection(config=region)
                    retry_idempotent_requests(self._admin)
            return self._admin

    def project(self, project_id):
        """Return a connection scoped to project_id (the admin account holds `member` there)."""
        with self._lock:
            conn = self._projects.get(project_id)
        if conn is None:
            with translate_errors("connect to project"):
                conn = self._log_in_to_project(project_id)
                retry_idempotent_requests(conn)
            with self._lock:
                self._projects[project_id] = conn
        return conn

    def _log_in_to_project(self, project_id, tries=SCOPED_LOGIN_TRIES):
        """Return a connection scoped to project_id, logged in. Keystone may refuse (401) a scoped
        login for a moment after the member role was granted while it is busy: the login is tried
        again a few times, a second apart and more; a refusal that lasts is the cloud's answer."""
        for attempt in range(1, tries + 1):
            conn = self.admin.connect_as_project({"id": project_id, "name": None, "domain_id": "default"})
            try:
                conn.session.get_token()
                return conn
            except ks_exceptions.Unauthorized:
                conn.close()
                if attempt == tries:
                    raise
                log.warning("scoped login to project %s refused (attempt %d of %d); trying again",
                            project_id, attempt, tries)
                time.sleep(attempt)

    def close(self):
        for conn in list(self._projects.values()):
            conn.close()
        self._projects.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    # -- catalog and capacity
    def catalog(self, refresh=False):
        """Return {"flavors": [...], "images": [...]} from the live cloud, cached for a few minutes."""
        if not refresh and self._catalog is not None and time.monotonic() - self._catalog_at < CATALOG_TTL:
            return self._catalog
        with translate_errors("list catalog"):
            flavors = sorted(({"id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk}
                              for f in self.admin.compute.flavors() if f.is_public is not False),
                             key=lambda f: (f["vcpus"], f["ram"], f["name"]))
            images = sorted(({"id": i.id, "name": i.name, "min_disk": i.min_disk or 0}
                             for i in self.admin.image.images() if i.status == "active"
                             and i.visibility in ("public", "community")), key=lambda i: i["name"])
        self._catalog = {"flavors": flavors, "images": images}
        self._catalog_at = time.monotonic()
        return self._catalog

    def capacity(self):
        """Return total, used and free VCPU / MEMORY_MB / DISK_GB over all Placement resource providers."""
        totals = {}
        with translate_errors("placement capacity"):
            for rp in self.admin.placement.resource_providers():
                inv = self.admin.placement.get(f"/resource_providers/{rp.id}/inventories").json()
                use = self.admin.placement.get(f"/resource_providers/{rp.id}/usages").json()
                for rc, data in inv.get("inventories", {}).items():
                    entry = totals.setdefault(rc, {"total": 0, "used": 0})
                    entry["total"] += int((data["total"] - data.get("reserved", 0)) * data.get("allocation_ratio", 1.0))
                    entry["used"] += use.get("usages", {}).get(rc, 0)
        for entry in totals.values():
            entry["free"] = entry["total"] - entry["used"]
        volume = self._volume_capacity()
        if volume is not None:
            totals["VOLUME_GB"] = volume
        return totals

    def _volume_capacity(self):
        """Return the block storage's total/used/free GB over its pools, or None when the pools do not
        say (a driver reporting "unknown"/"infinite", or no scheduler statistics)."""
        try:
            with translate_errors("block storage pools"):
                pools = list(self.admin.block_storage.backend_pools())
        except errors.ProvisioningError:
            return None  # the review shows the volume row as not known, the rest still checked
        total = free = 0.0
        for pool in pools:
            caps = pool.capabilities or {}
            try:
                total += float(caps["total_capacity_gb"])
                free += float(caps["free_capacity_gb"])
            except (KeyError, TypeError, ValueError):
                return None
        if not pools:
            return None
        return {"total": int(total), "used": int(total - free), "free": int(free)}
