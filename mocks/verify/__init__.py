"""Verification: of clients against the mocks, of providers against the contracts."""
