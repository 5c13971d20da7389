"""Service layer: one module per workflow; plain values in, domain objects out."""
