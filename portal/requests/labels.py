"""Translated names of cloud resource kinds (GLOSSARY.md terms)."""
from flask_babel import lazy_gettext as _l

RESOURCE_LABELS = {
    "project": _l("Project"),
    "router": _l("Router"),
    "network": _l("Network"),
    "subnet": _l("Subnet"),
    "security_group": _l("Security group"),
    "keypair": _l("Key pair"),
    "server": _l("Server"),
    "volume": _l("Volume"),
    "floating_ip": _l("Floating IP"),
}
