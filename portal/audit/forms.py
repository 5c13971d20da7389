"""The audit log has no forms yet: its filters are plain GET parameters."""
