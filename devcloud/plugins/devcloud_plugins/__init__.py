"""Dev-cloud-only plugins for OpenStack services. Never for production."""
