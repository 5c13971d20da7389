"""govcloud backup."""
