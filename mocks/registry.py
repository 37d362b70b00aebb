"""The APIs this sandbox serves: one contract each in contracts/, fixtures in fixtures/<api>/."""

from __future__ import annotations

from pathlib import Path

from mocks.clock import Clock
from mocks.contract import CONTRACTS_DIR, Contract
from mocks.engine import Api
from mocks.fixtures import load_fixtures
from mocks.state import open_store

API_NAMES = ("konducter", "lagerkoll", "istockist", "pingnetwork", "plggr")
_CONTRACTS: dict[str, Contract] = {}


def contract_path(name: str) -> Path:
    return CONTRACTS_DIR / f"{name}.yaml"


def load_contract(name: str) -> Contract:
    """Contracts are parsed once per process; every Api built from one shares it read-only."""
    if name not in _CONTRACTS:
        if name not in API_NAMES and not contract_path(name).exists():
            raise KeyError(f"unknown API '{name}' (known: {', '.join(API_NAMES)})")
        _CONTRACTS[name] = Contract.load(contract_path(name))
    return _CONTRACTS[name]


def load_api(name: str, *, store: str = "memory", clock: Clock | None = None) -> Api:
    return Api(load_contract(name), load_fixtures(name), open_store(store), clock or Clock())


def build_app(name: str, *, listener: str | None = None, admin: bool = True, admin_token: str | None = None,
              store: str = "memory", clock: Clock | None = None):
    """An ASGI app serving one API (its primary listener unless named): what tests mount in-process."""
    from mocks.app import MockApp

    api = load_api(name, store=store, clock=clock)
    return MockApp(api, listener or api.primary_listener, admin=admin, admin_token=admin_token)
