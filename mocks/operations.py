"""Operations compiled once per contract, and the route rule: which compiled operation a request names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mocks.actions import Action, compile_action, compile_lookup
from mocks.contract import Contract, Operation
from mocks.errors import ErrorCatalog
from mocks.ratelimit import Limiter, Policy
from mocks.rendering import ResponseRenderer
from mocks.routing import Router
from mocks.runtime import Runtime
from mocks.stages import Requirement, compile_requirements
from mocks.templates import compile_template
from mocks.types import MockError
from mocks.validation import RequestValidator


@dataclass(slots=True)
class CompiledOperation:
    operation: Operation
    validator: RequestValidator
    action: Action
    renderer: ResponseRenderer
    policies: list[Policy]
    error_template: str | None
    requirements: list[Requirement] = field(default_factory=list)
    lookup: Any = None  # the record the operation acts on, found read-only (before a Prefer answer)
    scope_override: Any = None  # the action's `scope` template: the tenant scope it acts in, if it names one

    @property
    def needs_early(self) -> bool:
        """Whether preconditions or rate-limit keys read the request before validation."""
        return bool(self.requirements or self.policies)


def compile_operation(runtime: Runtime, op: Operation, limiter: Limiter, errors: ErrorCatalog) -> CompiledOperation:
    scope = op.action.get("scope")
    return CompiledOperation(
        operation=op,
        validator=RequestValidator(runtime.contract, op),
        action=compile_action(runtime, op),
        renderer=ResponseRenderer(runtime.contract, op, errors.xml_root),
        policies=limiter.for_operation(op.id),
        error_template=op.spec.get("x-mock-error-template"),
        requirements=compile_requirements(op),
        lookup=compile_lookup(runtime, op),
        scope_override=compile_template(scope) if scope else None,
    )


class Routes:
    """One router per listener; a listener serves the operations `Contract.serves` says it does."""

    def __init__(self, contract: Contract, operations: dict[str, CompiledOperation]) -> None:
        self.routers: dict[str, Router[CompiledOperation]] = {name: Router() for name in contract.listeners}
        for compiled in operations.values():
            for name in contract.listeners:
                if contract.serves(name, compiled.operation):
                    self.routers[name].add(compiled.operation.method, compiled.operation.path, compiled)
        self.primary = next(iter(contract.listeners))

    def match(self, listener: str | None, method: str, path: str) -> tuple[CompiledOperation, dict[str, str]]:
        """The operation and path parameters, or the 404/405 MockError (405s carry `Allow`)."""
        router = self.routers.get(listener) or self.routers[self.primary]
        match = router.match(method, path)
        if match is None:
            raise MockError("not_found", f"no such path: {path}")
        if match.target is None:
            raise MockError("method_not_allowed", f"{method} is not allowed here",
                            headers=[("Allow", ", ".join(match.allowed))])
        return match.target, match.params
