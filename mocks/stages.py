"""Small stages compiled from an operation: `require` preconditions, the version echo, magic values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mocks.contract import Contract, Operation
from mocks.templates import compile_template
from mocks.types import MockError, MockRequest, Principal

Requirement = tuple[Any, str, Any, str]  # (value template, "equals" | "in", expected template, error code)
MagicCheck = Callable[[Any], None]  # raises the declared error when the body holds a magic value

# these actions check magic values themselves, after their own preconditions (a lifecycle conflict
# outranks a decline); every other kind checks them before acting
CHECKS_MAGIC_ITSELF = frozenset({"create", "update", "transition"})


def compile_requirements(operation: Operation) -> list[Requirement]:
    return [(compile_template(r["value"]), "equals" if "equals" in r else "in",
             compile_template(r.get("equals", r.get("in"))), r["error"])
            for r in (operation.action or {}).get("require") or []]


def check_requirements(requirements: list[Requirement], context: dict[str, Any]) -> None:
    for value, relation, expected, error in requirements:
        have, wanted = value(context), expected(context)
        if relation == "equals":
            ok = have is not None and str(have) == str(wanted)
        else:
            ok = have is not None and str(have) in {str(v) for v in (wanted or [])}
        if not ok:
            raise MockError(error, f"'{have}' is not allowed for this caller")


def compile_magic(operation: Operation) -> MagicCheck | None:
    rules = operation.spec.get("x-mock-magic") or []
    if not rules:
        return None

    def check(body: Any) -> None:
        for rule in rules:
            value = _pointer(body, rule["pointer"])
            code = rule.get("values", {}).get(str(value)) if value is not None else None
            if code is not None:
                raise MockError(code, field=rule["pointer"].strip("/").replace("/", "."))

    return check


class Versioning:
    """`x-mock-versions`: the version a request asks for (or the caller's default), echoed in a header."""

    def __init__(self, contract: Contract) -> None:
        self.spec = spec = contract.extension("versions")
        self._default = compile_template(spec.get("default")) if spec and spec.get("default") else None
        if spec:  # read once: every request of a versioned API asks
            self._header, self._lowered = spec["header"], spec["header"].lower()
            self._known, self._current = frozenset(spec.get("known", ())), spec.get("current")

    def header(self, request: MockRequest, principal: Principal | None) -> tuple[str, str] | None:
        if not self.spec:
            return None
        header = self._header
        version = request.headers.get(self._lowered)
        if version is None:
            # templates only read the context, so the principal's attributes need no copy
            version = self._default({"principal": principal.attributes if principal else {}}) if self._default else None
            version = version or self._current
        elif version not in self._known:
            raise MockError(self.spec.get("unknown", "invalid_request"),
                            f"unknown API version '{version}'; known: {', '.join(self.spec['known'])}",
                            field=header)
        return header, str(version)


def _pointer(value: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
