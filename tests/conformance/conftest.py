"""pytest glue for the Schemathesis conformance suite (the helpers live in conformancekit.py).

The test modules build their Schemathesis schemas at import time, which `@schema.parametrize()`
needs; a module named `conftest` cannot be imported from a test module reliably (tests/contracts
has one too), so the shared helper is `conformancekit`, importable because pytest puts this
directory on `sys.path`.

With `-v`, or CONFORMANCE_REPORT=1, the terminal summary lists, per API and operation, the status
codes Schemathesis received: the quickest way to see that positive data reached the business
logic (2xx) and that negative data was refused (4xx).
"""

from __future__ import annotations

import os

import pytest
from conformancekit import LOADED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not LOADED or not (config.option.verbose > 0 or os.environ.get("CONFORMANCE_REPORT")):
        return
    terminalreporter.section("Schemathesis conformance: responses per operation")
    for conformance in LOADED:
        for operation, counts in sorted(conformance.statuses.items()):
            seen = ", ".join(f"{status}x{count}" for status, count in sorted(counts.items()))
            terminalreporter.write_line(f"{conformance.label:18} {operation:30} {seen}")


def pytest_collection_modifyitems(config, items) -> None:
    """Every test here is a property-based run against a whole API: mark them `slow`, so that a quick
    local loop can leave them out with `-m "not slow"` (CI runs them: `make test` selects all)."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.slow)
