"""JUnit XML for CI, shared by every verifier: each builds its test cases, this counts and writes them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def write_suite(suite: ET.Element, path: str | Path) -> None:
    """Count the suite's test cases by outcome and write it, wrapped in <testsuites>."""
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
