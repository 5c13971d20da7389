"""API of the running cloud: inventory, usage, statements and reports, SLA, incidents, maintenance."""
