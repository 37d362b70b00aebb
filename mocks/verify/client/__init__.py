"""`mocks verify-client`: a client under generated fault schedules, judged by named properties.

The command's API is loaded on first use, so `python -m mocks.verify.client.environment` runs
its module once (and without Hypothesis).
"""

from typing import Any

__all__ = ["failure_text", "run_cli", "verify", "verify_function"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mocks.verify.client import command

        return getattr(command, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
