"""The cloud's catalog and capacity for forms and reviews, as plain data (through provisioner.cloud)."""
import threading

from provisioner.cloud import Cloud

from ..specs import Limits

_clouds = {}
_lock = threading.Lock()


def cloud_for(config):
    """Return the shared Cloud handle for the clouds.yaml and cloud name in config."""
    c = Cloud.from_config(config)
    key = (c.clouds_yaml, c.cloud_name)
    with _lock:
        return _clouds.setdefault(key, c)


def catalog(config):
    """Return {"flavors": [...], "images": [...], "limits": Limits} (the cloud's part cached a few
    minutes; the limits are the settings' REQUEST_MAX_*)."""
    return {**cloud_for(config).catalog(), "limits": Limits.from_config(config)}


def capacity(config):
    """Return free/used/total per Placement resource class; {} when the cloud does not answer."""
    from provisioner.errors import ProvisioningError
    try:
        return cloud_for(config).capacity()
    except ProvisioningError:
        return {}
