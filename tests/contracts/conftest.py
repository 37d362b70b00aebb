"""Fixtures for the contract tests: each contract loaded once, with a $ref registry.

Generic tests take `contract_name` (parametrized over the README's contract table
plus any other contracts/*.yaml) and call `load(contract_name)` in their body, so a
contract that does not exist yet makes the test fail, not error or skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from contractkit import CONTRACTS, FIXTURES, X_MOCK_SCHEMA, Contract, contract_names, load_yaml, registry_for
from jsonschema import Draft202012Validator


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_name" in metafunc.fixturenames:
        metafunc.parametrize("contract_name", contract_names())


@pytest.fixture(scope="session")
def load() -> Callable[[str], Contract]:
    """load("konducter") -> Contract, cached; fails the calling test if the file is missing."""
    cache: dict[str, Contract] = {}

    def _load(name: str) -> Contract:
        if name not in cache:
            path = CONTRACTS / f"{name}.yaml"
            if not path.exists():
                pytest.fail(f"contracts/{name}.yaml does not exist (yet)")
            cache[name] = Contract(name, path, load_yaml(path))
        return cache[name]

    return _load


@pytest.fixture(scope="session")
def load_fixture() -> Callable[[str], Any]:
    """load_fixture("konducter") -> fixtures/konducter/sandbox.yaml, failing when missing."""

    def _load(api: str) -> Any:
        path = FIXTURES / api / "sandbox.yaml"
        if not path.exists():
            pytest.fail(f"fixtures/{api}/sandbox.yaml does not exist (yet)")
        return load_yaml(path)

    return _load


@pytest.fixture(scope="session")
def x_mock_schema() -> dict[str, Any]:
    schema = load_yaml(X_MOCK_SCHEMA)
    Draft202012Validator.check_schema(schema)
    return schema


@pytest.fixture(scope="session")
def x_mock_validator(x_mock_schema: dict[str, Any]) -> Callable[[str], Draft202012Validator]:
    """x_mock_validator("x-mock-action") -> validator for that $defs entry."""
    uri = x_mock_schema["$id"]
    registry = registry_for(x_mock_schema, uri)
    cache: dict[str, Draft202012Validator] = {}

    def _validator(name: str) -> Draft202012Validator:
        if name not in cache:
            cache[name] = Draft202012Validator(
                {"$ref": f"{uri}#/$defs/{name}"}, registry=registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER)
        return cache[name]

    return _validator
