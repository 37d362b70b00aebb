"""The APIs this sandbox serves and their contracts (parsed once per process), without building any."""

from __future__ import annotations

from pathlib import Path

from mocks.contract import CONTRACTS_DIR, Contract

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
