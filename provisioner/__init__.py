"""govcloud provisioner."""
