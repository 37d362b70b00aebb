"""Contract-driven stateful mock servers for five commerce APIs."""

from mocks.registry import API_NAMES, build_app, load_api

__all__ = ["API_NAMES", "build_app", "load_api"]
