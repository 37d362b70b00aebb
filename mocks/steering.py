"""Steering an API from outside its contract's traffic: faults and rate limits (admin API, scenarios,
snapshots, the verifier). Every fault is checked against the contract by `faults.check_fault`."""

from __future__ import annotations

from mocks.errors import ErrorCatalog
from mocks.faultbook import FaultBook
from mocks.faults import Fault, check_fault
from mocks.operations import CompiledOperation
from mocks.ratelimit import Limiter, Policy


class Steering:
    def __init__(self, name: str, operations: dict[str, CompiledOperation], errors: ErrorCatalog, faults: FaultBook,
                 limiter: Limiter) -> None:
        self.name, self.operations, self.errors, self.faults, self.limiter = name, operations, errors, faults, limiter

    def add_fault(self, spec: dict) -> Fault:
        check_fault(spec, list(self.operations), self.errors, self.name)
        return self.faults.add(spec)

    def configure_limit(self, rate: str | None, policy: str | None = None, enabled: bool | None = None) -> list[Policy]:
        if rate is not None:
            chosen = self.limiter.configure(rate, policy)
        else:
            chosen = [p for p in self.limiter.policies if policy is None or p.name == policy]
        if not chosen:
            raise KeyError(policy)
        if enabled is not None:
            for p in chosen:
                p.enabled = bool(enabled)
        return chosen

    def restore_limits(self) -> None:
        self.limiter.restore()
