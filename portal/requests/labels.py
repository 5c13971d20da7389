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

DIFF_ITEMS = {"server": _l("Server"), "volume": _l("Volume"), "rule": _l("Security group rule"),
              "floating_ips": _l("Floating IPs"),
              "bandwidth_mbps": _l("Bandwidth (Mbps)"), "ssh_public_key": _l("SSH public key"), "network": _l("Network")}
DIFF_FIELDS = {"count": _l("Count"), "flavor": _l("Flavor"), "image": _l("Image"),
               "data_volumes": _l("Data volumes (GB)"), "size_gb": _l("Size (GB)"),
               "attach_to": _l("Attach to server"), "cidr": _l("Network (CIDR)")}
DIFF_VALUES = {"present": _l("present"), "removed": _l("removed"), "added": _l("added")}
