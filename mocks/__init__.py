"""Contract-driven stateful mock servers for five commerce APIs."""

from __future__ import annotations

from typing import Any

from mocks.catalog import API_NAMES

__all__ = ["API_NAMES", "build_app", "load_api"]


def __getattr__(name: str) -> Any:
    """`build_app` and `load_api` load the engine (and the adapters) on first use (PEP 562): importing
    any `mocks.x` stays light."""
    if name == "build_app":
        from mocks.app import build_app

        return build_app
    if name == "load_api":
        from mocks.registry import load_api

        return load_api
    raise AttributeError(f"module 'mocks' has no attribute {name!r}")
