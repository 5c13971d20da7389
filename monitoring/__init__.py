"""govcloud monitoring."""
