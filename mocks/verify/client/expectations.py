"""The user's own postconditions: what must hold after a run that exits 0 (`--expect FILE`).

No fault schedule can tell a valid but wrong write (quantity 3 instead of 2) from the right one,
or work silently skipped. The user says what must hold, as JMESPath expressions over one
document per API:

    state    resource -> the data of every record in the final state
    created  resource -> the data of the records the run added
    journal  the run's requests: operation, method, path, status, dropped, fault, replayed,
             request and response (bodies, parsed when JSON)

A file (YAML or JSON) holds a list, or `{expect: [...]}`, of predicates:

    - name: one order was created           # optional: how a failure is shown
      api: istockist                         # optional: which API's document (default: the first)
      that: length(created.order)            # a JMESPath expression
      equals: 1                              # optional: without it, the result must be truthy

From pytest, `expect=` takes a Python callable too: it receives the document (for several APIs,
a dict of documents by API name) and fails by returning False or raising AssertionError.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
import yaml
from jmespath.exceptions import JMESPathError

from mocks.verify.client.effects import new_records
from mocks.verify.client.facts import Facts
from mocks.verify.client.runner import Run
from mocks.verify.client.traffic import Call

_ANY = object()


@dataclass(frozen=True, slots=True)
class Expectation:
    name: str
    expression: Any = None  # a compiled JMESPath expression
    equals: Any = _ANY
    api: str = ""
    function: Callable[[dict[str, Any]], Any] | None = None
    source: str = ""  # the --expect file it came from

    def broken(self, documents: dict[str, dict[str, Any]]) -> str | None:
        """Why this expectation does not hold, or None."""
        if self.function is not None:
            argument = next(iter(documents.values())) if len(documents) == 1 else documents
            try:
                held = self.function(argument)
            except AssertionError as failed:
                return f"{self.name}: {failed}" if str(failed) else f"{self.name} did not hold"
            return None if held is None or held else f"{self.name} returned {held!r}"
        document = documents[self.api] if self.api else next(iter(documents.values()))
        result = self.expression.search(document)
        if self.equals is _ANY:
            return None if result else f"{self.name}: `{self.expression.expression}` is {_shown(result)}"
        if result == self.equals:
            return None
        return f"{self.name}: `{self.expression.expression}` is {_shown(result)}, expected {_shown(self.equals)}"


def load_expectations(path: str | Path, apis: Sequence[str]) -> list[Expectation]:
    """Read and check an --expect file; a ValueError says what is wrong with it."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not YAML or JSON: {exc}") from None
    items = document.get("expect") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: expected a list of predicates (or {{expect: [...]}})")
    return [_expectation(item, index, path, apis) for index, item in enumerate(items, 1)]


def of_callables(functions: Sequence[Callable[[dict[str, Any]], Any]]) -> list[Expectation]:
    return [Expectation(getattr(f, "__name__", "expectation"), function=f) for f in functions]


def _expectation(item: Any, index: int, path: str | Path, apis: Sequence[str]) -> Expectation:
    where = f"{path}: predicate {index}"
    if not isinstance(item, dict) or not isinstance(item.get("that"), str):
        raise ValueError(f"{where}: needs `that: <JMESPath expression>`")  # noqa: TRY004 - a bad file, not a bad call
    unknown = set(item) - {"name", "api", "that", "equals"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (name, api, that, equals)")
    api = str(item.get("api") or "")
    if api and api not in apis:
        raise ValueError(f"{where}: api {api!r} is not verified here ({', '.join(apis)})")
    try:
        expression = jmespath.compile(item["that"])
    except JMESPathError as exc:
        raise ValueError(f"{where}: `{item['that']}` is not a JMESPath expression: {exc}") from None
    return Expectation(str(item.get("name") or item["that"]), expression, item.get("equals", _ANY), api,
                       source=str(path))


def broken_expectations(expectations: Sequence[Expectation], run: Run, facts: Facts) -> list[str]:
    """Messages of the expectations a run that exited 0 broke (none for any other run)."""
    if not expectations or run.exit_code != 0:
        return []
    names = run.apis or (facts.name,)
    documents = {name: document(run.view(name) if run.apis else run, facts.for_api(name)) for name in names}
    out = []
    for expectation in expectations:
        try:
            message = expectation.broken(documents)
        except JMESPathError as exc:
            message = f"{expectation.name}: cannot evaluate: {exc}"
        if message:
            out.append(f"{message}. The client exited 0, so this should hold after its run.")
    return out


def document(run: Run, facts) -> dict[str, Any]:
    """What the expressions read for one API: its final state, what the run created, its journal."""
    state = {resource: [record["data"] for record in records] for resource, records in run.after.items()}
    created = {resource: new_records(facts, resource, run.before, run.after) for resource in run.after}
    return {"state": state, "created": created, "journal": [_exchange(call) for call in run.calls]}


def _exchange(call: Call) -> dict[str, Any]:
    return {"operation": call.operation, "method": call.method, "path": call.path, "status": call.status,
            "dropped": call.dropped, "fault": call.fault is not None, "replayed": call.replayed,
            "request": _parsed(call.body), "response": _parsed(call.response_body)}


def _parsed(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
