"""The APIs this sandbox serves: one contract each in contracts/, fixtures in fixtures/<api>/."""

from __future__ import annotations

from mocks.catalog import API_NAMES, contract_path, load_contract
from mocks.clock import Clock
from mocks.delivery_worker import LEASE
from mocks.engine import Api
from mocks.fixtures import load_fixtures
from mocks.state import DEFAULT_CONCURRENCY_LEASE, DEFAULT_NAMESPACE, open_sandbox_state, open_store

__all__ = ["API_NAMES", "contract_path", "load_api", "load_contract"]


def load_api(name: str, *, store: str = "memory", namespace: str = DEFAULT_NAMESPACE,
             clock: Clock | None = None, concurrency_lease: float = DEFAULT_CONCURRENCY_LEASE,
             delivery_lease: float = LEASE) -> Api:
    clock = clock or Clock(state=open_sandbox_state(store, namespace=namespace))
    return Api(load_contract(name), load_fixtures(name),
               open_store(store, namespace=namespace, api=name, concurrency_lease=concurrency_lease), clock,
               delivery_lease=delivery_lease)
