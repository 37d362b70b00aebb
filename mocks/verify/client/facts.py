"""What the verifier reads from a contract: operations, their effects, error codes, issued credentials."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mocks.engine import Api

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class OperationFacts:
    id: str
    method: str
    path: str
    statuses: frozenset[int]  # declared response statuses
    kind: str  # x-mock-action kind
    resource: str | None
    id_param: str | None
    match_field: str | None
    to: str | None  # transition target
    issued: bool  # secured by a credential that an operation of the API issues

    @property
    def is_write(self) -> bool:
        return self.method not in READ_METHODS and self.kind != "issue-credential"

    @property
    def creates(self) -> bool:
        """Adds a new resource (a create, or a handler that POSTs to a collection)."""
        return self.resource is not None and self.method == "POST" and (
            self.kind == "create" or (self.kind == "handler" and self.id_param is None))

    def label(self) -> str:
        return f"{self.id} ({self.method} {self.path})"


@dataclass(slots=True)
class ApiFacts:
    name: str
    api: Api
    operations: dict[str, OperationFacts]
    codes: dict[str, int]  # error code name -> status
    issuing: frozenset[str]  # operations that issue credentials (token endpoints, logins)
    issued_schemes: dict[str, tuple[str, str]]  # scheme -> (kind, header name) of issued credentials
    idempotency_header: str | None
    idempotency_methods: frozenset[str]
    idempotency_codes: frozenset[str]
    policies: list[dict[str, Any]] = field(default_factory=list)
    idempotency_mismatch: str | None = None  # 409 code: the key was reused with another body (a client bug)
    idempotency_in_flight: str | None = None  # 409 code: the key's first request still runs (retry it, same key)

    @classmethod
    def of(cls, api: Api) -> ApiFacts:
        contract = api.contract
        schemes = contract.security_schemes
        issued = {name: _presentation(spec) for name, spec in schemes.items() if spec.get("x-mock-issued-by")}
        idempotency = contract.extension("idempotency") or {}
        operations = {}
        for op in contract.operations:
            action = op.action or {}
            resource = api.resources.get(action.get("resource") or "")
            operations[op.id] = OperationFacts(
                id=op.id, method=op.method, path=op.path,
                statuses=frozenset(int(s) for s in op.responses if s.isdigit()),
                kind=action.get("kind", "static"), resource=resource.name if resource else None,
                id_param=action.get("id-param"),
                match_field=action.get("match-field", resource.id_field if resource else None),
                to=action.get("to"),
                issued=any(set(requirement) & set(issued) for requirement in op.security),
            )
        return cls(
            name=api.name, api=api, operations=operations,
            codes={name: api.errors.status_of(name) for name in api.errors.codes},
            issuing=frozenset(op.id for op in contract.operations
                              if (op.action or {}).get("kind") == "issue-credential"),
            issued_schemes=issued,
            idempotency_header=idempotency.get("header") if idempotency else None,
            idempotency_methods=frozenset(m.upper() for m in idempotency.get("methods", ["POST"])) if idempotency
            else frozenset(),
            idempotency_codes=frozenset(c for c in (idempotency.get("mismatch"), idempotency.get("in-flight")) if c),
            idempotency_mismatch=idempotency.get("mismatch") if idempotency else None,
            idempotency_in_flight=idempotency.get("in-flight") if idempotency else None,
            policies=[{"name": p.name, "algorithm": p.algorithm, "window": p.window, "error": p.error}
                      for p in api.limiter.policies],
        )

    def for_api(self, api: str) -> ApiFacts:
        """This API's facts (the same call as on a `FactSet`, so one-API code reads like several-API code)."""
        return self

    def codes_with(self, statuses: set[int] | frozenset[int], operation: str | None = None) -> list[str]:
        """Declared error codes answering one of `statuses` (and declared by the operation, if named)."""
        allowed = self.operations[operation].statuses if operation else None
        return [name for name, status in self.codes.items()
                if status in statuses and (allowed is None or status in allowed)
                and name not in self.idempotency_codes]

    def error_code(self, status: int | None, body: str) -> str | None:
        """The declared error code an error answer carries in its body (whatever the envelope)."""
        if status is None or status < 400 or not body:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        todo = [document]
        while todo:
            value = todo.pop()
            if isinstance(value, dict):
                todo.extend(value.values())
            elif isinstance(value, list):
                todo.extend(value)
            elif isinstance(value, str) and self.codes.get(value) == status:
                return value
        return None

    def presented_token(self, headers: dict[str, str]) -> tuple[str, ...] | None:
        """The issued credential a request presented (values of the issued schemes), if any."""
        values = []
        for kind, name in self.issued_schemes.values():
            value = headers.get(name)
            if value is None or (kind == "bearer" and not value.lower().startswith("bearer ")):
                continue
            values.append(value)
        return tuple(values) or None


def _presentation(spec: dict[str, Any]) -> tuple[str, str]:
    if spec.get("type") == "apiKey":
        return "header", str(spec.get("name", "")).lower()
    return "bearer", "authorization"


class FactSet(dict[str, ApiFacts]):
    """The facts of every API a client of several APIs talks to, by name (first named first)."""

    @property
    def name(self) -> str:
        return "+".join(self)

    def for_api(self, api: str) -> ApiFacts:
        return self[api] if api else next(iter(self.values()))


Facts = ApiFacts | FactSet  # what the search, the report and the scenario writer are given
