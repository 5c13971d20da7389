"""Billing pages: usage, the rate card, statements, monthly summary reports, the annual budget."""
