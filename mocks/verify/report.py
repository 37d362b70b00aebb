"""What the three verifiers' commands share: progress lines, a report, the end of a run.

Every command prints progress lines while it runs (`progress_to`), and ends with `finish`: the
report rendered on stdout, its JUnit suite written when --junit asks, and the exit status.
Progress goes to stderr for verify-provider and verify-webhook-handler, to stdout for
verify-client (its run lines are its output); the report always goes to stdout.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO

from mocks.verify.junit import write_suite

Progress = Callable[[str], None]
"""One line of progress."""


class Report(Protocol):
    """What every verifier's run returns."""

    @property
    def passed(self) -> bool: ...

    def render(self) -> str:
        """The final text, printed on stdout."""
        ...

    def junit(self) -> ET.Element:
        """One <testsuite> (built with `mocks.verify.junit`)."""
        ...


def progress_to(stream: TextIO, *, quiet: bool = False) -> Progress:
    """Progress lines on `stream`, flushed as they come; none when `quiet`."""

    def line(text: str) -> None:
        if not quiet:
            print(text, file=stream, flush=True)

    return line


def no_progress(text: str) -> None:
    """Progress nobody reads (the Python API without a `progress`)."""


def finish(report: Report, *, junit: str | Path | None = None, out: TextIO | None = None) -> int:
    """Print the report, write its JUnit suite if asked; exit status 0 when it passed, 1 otherwise."""
    print(report.render(), file=out or sys.stdout, flush=True)
    if junit:
        write_suite(report.junit(), junit)
    return 0 if report.passed else 1
