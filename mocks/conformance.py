"""Is a response true to the contract? Used by the test suite on every mock response, and by verifiers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mocks.contract import Contract, Operation
from mocks.media import JSON, essence, parse_xml
from mocks.routing import Router
from mocks.validation import compile_schema


@dataclass(slots=True, frozen=True)
class Problem:
    operation: str
    status: int
    message: str

    def __str__(self) -> str:
        return f"{self.operation} -> {self.status}: {self.message}"


class ResponseChecker:
    def __init__(self, contract: Contract, listener: str | None = None) -> None:
        self.contract = contract
        self.router: Router[Operation] = Router()
        for op in contract.operations:
            if contract.serves(listener, op):
                self.router.add(op.method, op.path, op)
        self._validators: dict[tuple[str, str, str], Any] = {}

    def check(self, method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> list[Problem]:
        if path.startswith("/__mock/"):
            return []
        match = self.router.match(method.upper(), path)
        if match is None or match.target is None:
            return []  # 404/405 for unknown routes are the API's own errors, checked by their format
        op = match.target
        response = op.response(status) or op.responses.get("default")
        if response is None:
            return [Problem(op.id, status, f"status {status} is not documented")]
        problems = []
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, header in (response.get("headers") or {}).items():
            header = self.contract.resolve(header)
            if header.get("required") and name.lower() not in lowered and name.lower() != "content-type":
                problems.append(Problem(op.id, status, f"required header {name} is missing"))
        content = response.get("content") or {}
        if not content:
            if body:
                problems.append(Problem(op.id, status, f"no body is documented but one was sent: {body[:200]!r}"))
            return problems
        if not body and status != 204:
            return problems + [Problem(op.id, status, "a body is documented but none was sent")]
        media_type = essence(lowered.get("content-type"))
        declared = {essence(m): m for m in content}
        if media_type not in declared:
            return problems + [Problem(op.id, status, f"content type {media_type!r} is not one of {list(declared)}")]
        schema = content[declared[media_type]].get("schema")
        if schema is None:
            return problems
        try:
            value = parse_xml(body, {}) if "xml" in media_type else json.loads(body) if (
                media_type == JSON or media_type.endswith("+json")) else None
        except Exception as exc:  # noqa: BLE001 - any parse failure is a conformance problem
            return problems + [Problem(op.id, status, f"body does not parse as {media_type}: {exc}")]
        if value is None or "xml" in media_type:
            return problems
        validator = self._validator(op, str(status), media_type, schema)
        for error in list(validator.iter_errors(value))[:3]:
            where = "/".join(str(p) for p in error.instance_path)
            problems.append(Problem(op.id, status, f"body at '/{where}': {error.message}"))
        return problems

    def _validator(self, op: Operation, status: str, media_type: str, schema: dict[str, Any]):
        key = (op.id, status, media_type)
        if key not in self._validators:
            self._validators[key] = compile_schema(self.contract, schema)
        return self._validators[key]
