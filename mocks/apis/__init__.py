"""Per-API behaviour the contracts cannot declare."""
