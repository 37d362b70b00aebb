"""JUnit XML for CI, the one writer every verifier shares: a suite, its test cases, and the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def suite(name: str, *, seconds: float, properties: dict[str, object] | None = None) -> ET.Element:
    """One <testsuite>; `properties` become its <properties> (what the run was: seed, API, ...)."""
    element = ET.Element("testsuite", name=name, time=f"{seconds:.3f}")
    if properties:
        listed = ET.SubElement(element, "properties")
        for key, value in properties.items():
            ET.SubElement(listed, "property", name=key, value=str(value))
    return element


def case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name)


def failure(case: ET.Element, message: str, text: str | None = None, *, kind: str | None = None) -> None:
    element = ET.SubElement(case, "failure", message=message, **({"type": kind} if kind else {}))
    element.text = text


def error(case: ET.Element, message: str, text: str | None = None) -> None:
    ET.SubElement(case, "error", message=message).text = text


def skipped(case: ET.Element, message: str) -> None:
    ET.SubElement(case, "skipped", message=message)


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
