"""Unit tests: one file per engine module, each test with a tiny inline contract or app."""
