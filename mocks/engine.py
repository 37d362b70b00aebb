"""An API: one contract compiled once, assembled from its runtime, operations, pipeline and steering.

To follow a request read `mocks/pipeline.py` (`Pipeline.handle`); this module only builds the parts
and keeps the attributes the admin API, the console, snapshots, scenarios and the verifier read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mocks import seeding
from mocks.auth import Authenticator
from mocks.clock import Clock
from mocks.contract import Contract
from mocks.errors import ErrorCatalog
from mocks.events import EventBus
from mocks.faultbook import FaultBook
from mocks.faults import Fault
from mocks.fixtures import Fixtures
from mocks.idempotency import Idempotency
from mocks.journal import Journal
from mocks.operations import CompiledOperation, Routes, compile_operation
from mocks.pipeline import Pipeline, Trace
from mocks.ratelimit import Limiter, Policy
from mocks.resources import ResourceType, UnknownResource
from mocks.routing import Router
from mocks.runtime import Runtime
from mocks.state.protocol import Store
from mocks.steering import Steering
from mocks.types import MockRequest, MockResponse
from mocks.webhooks import LEASE, WebhookDispatcher

__all__ = ["Api", "CompiledOperation", "Trace"]


class Api:
    def __init__(self, contract: Contract, fixtures: Fixtures, store: Store, clock: Clock | None = None,
                 *, journal_size: int = 2000, delivery_lease: float = LEASE) -> None:
        self.contract, self.name, self.fixtures, self.store = contract, contract.name, fixtures, store
        self.clock = clock or Clock()
        self.errors = ErrorCatalog(contract)
        self.resources = {name: ResourceType.declare(name, spec)
                          for name, spec in (contract.extension("resources") or {}).items()}
        self.auth = Authenticator(contract, fixtures, store)
        self.limiter = Limiter(contract, store)
        self.faults = FaultBook(store)
        self.journal = Journal(journal_size, store)
        self.events = EventBus(store=store)
        idempotency = contract.extension("idempotency")
        self.idempotency = Idempotency(idempotency, store) if idempotency else None
        self.runtime = Runtime(self.name, contract, fixtures, self.resources, store, self.clock, self.events, self.auth)
        self.webhooks = WebhookDispatcher(self.runtime, lease=delivery_lease)
        self.runtime.deliveries = self.webhooks
        self.operations: dict[str, CompiledOperation] = {
            op.id: compile_operation(self.runtime, op, self.limiter, self.errors) for op in contract.operations}
        self.routes = Routes(contract, self.operations)
        self.primary_listener = self.routes.primary
        self.base_urls: dict[str, str] = {}  # listener -> URL, once a server has bound its ports
        self.pipeline = Pipeline(self.runtime, self.routes, self.errors, self.limiter, self.faults, self.journal,
                                 self.idempotency)
        self.steering = Steering(self.name, self.operations, self.errors, self.faults, self.limiter)
        if store.claim_seeding():  # a process joining a shared sandbox in use leaves its state alone
            self.seed()

    @property
    def routers(self) -> dict[str, Router[CompiledOperation]]:
        return self.routes.routers

    async def handle(self, request: MockRequest) -> MockResponse:
        return await self.pipeline.handle(request)

    # state -------------------------------------------------------------------------------------
    def seed(self, resources: Mapping[str, Iterable[dict[str, Any]]] | None = None) -> int:
        """Store `resources` (by default the fixtures') through the one seeding rule."""
        try:
            return seeding.seed(self.runtime, self.fixtures.resources if resources is None else resources)
        except UnknownResource as exc:
            if resources is not None:
                raise
            raise ValueError(f"fixtures for {self.name} seed unknown resource '{exc.name}'") from None

    def reset(self, *, seed: bool = True) -> None:
        self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.events.history.clear()
        self.webhooks.clear()
        self.steering.restore_limits()
        self.store.claim_seeding()  # seeded or left empty on purpose: a joining process must not seed it
        if seed:
            self.seed()

    def group_of(self, resource: ResourceType, scope: str | None) -> Any:
        return self.runtime.group_of(resource, scope)

    # steering (admin API, scenarios, verifier) ---------------------------------------------------
    def add_fault(self, spec: dict[str, Any]) -> Fault:
        return self.steering.add_fault(spec)

    def configure_limit(self, rate: str | None, policy: str | None = None, enabled: bool | None = None) -> list[Policy]:
        return self.steering.configure_limit(rate, policy, enabled)

    async def start(self) -> None:
        """Start background work (webhook delivery) when a server starts."""
        await self.webhooks.start()

    async def stop(self) -> None:
        await self.webhooks.stop()
        await self.events.stop()
