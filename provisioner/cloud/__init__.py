"""The one package that talks to OpenStack (openstacksdk); everything else gets plain data back.

Connections come from a clouds.yaml file and a cloud name (GOVCLOUD_CLOUDS_YAML / GOVCLOUD_CLOUD),
never from credentials in the portal's settings. Resources are created inside the department's
project through a project-scoped connection of the same (admin) account. One API style: every
call is a method of Cloud (`cloud.create_server(...)`, `cloud.govcloud_inventory(...)`).
"""
from .backups import Backups
from .connection import Connections, http_retry, settings_from, translate_errors
from .inventory import Inventory
from .live import LiveInventory
from .resources import Resources

__all__ = ["Cloud", "http_retry", "settings_from", "translate_errors"]


class Cloud(Connections, Resources, Inventory, LiveInventory, Backups):
    """A handle on one OpenStack cloud (see the modules of this package for its methods)."""
